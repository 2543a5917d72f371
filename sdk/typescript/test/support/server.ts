// A real `cubby serve` for the tests, and a stub HTTP server for the retry rules.
//
// `liveServer()` reuses the server that scripts/test.mjs started for the whole run
// (CUBBY_TEST_BASE_URL, CUBBY_TEST_API_KEY, CUBBY_TEST_DATA_DIR); run alone, a test file starts
// its own. `startServer()` always starts a fresh one: `.venv/bin/cubby serve` on a free loopback
// port with a temp data dir (SQLite + local files) and a key from `cubby api-keys create`.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** sdk/typescript */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const REPO_DIR = resolve(PACKAGE_DIR, '..', '..')

function venvTool(name: string, variable: string): string {
  const given = process.env[variable]
  if (given) return given
  const path = join(REPO_DIR, '.venv', 'bin', name)
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`make .venv/.installed-dev\` in ${REPO_DIR} (or set ${variable})`)
  }
  return path
}

export const python = (): string => venvTool('python', 'CUBBY_PYTHON')
export const cubbyBin = (): string => venvTool('cubby', 'CUBBY_BIN')

export interface LiveServer {
  baseUrl: string
  apiKey: string
  dataDir: string
  env: NodeJS.ProcessEnv
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolvePort(port))
    })
  })
}

function serverEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CUBBY_DATA_DIR: dataDir }
  // One self-contained server: SQLite and files in the temp data dir, whatever the shell says.
  for (const name of ['CUBBY_DATABASE_URL', 'CUBBY_FILES_URL', 'CUBBY_API_KEY', 'CUBBY_BASE_URL']) {
    delete env[name]
  }
  return env
}

async function waitHealthy(baseUrl: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      const response = await fetch(`${baseUrl}/health`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`cubby serve did not start: ${log()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A fresh `cubby serve` on its own data dir. */
export async function startServer(extraEnv: NodeJS.ProcessEnv = {}): Promise<LiveServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cubby-ts-'))
  const env = { ...serverEnv(dataDir), ...extraEnv }
  const bin = cubbyBin()
  const { stdout } = await run(bin, ['api-keys', 'create', '--name', 'ts-tests', '--create-data-dir'], { env })
  const apiKey = stdout.trim()
  if (!apiKey.startsWith('cby_')) throw new Error(`unexpected key output: ${stdout}`)
  const port = await freePort()
  const proc = spawn(bin, ['serve', '--port', String(port), '--log-level', 'warning'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const baseUrl = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitHealthy(baseUrl, proc, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return { baseUrl, apiKey, dataDir, env, stop }
}

/** The run's shared server (see scripts/test.mjs), or a fresh one when this file runs alone. */
export async function liveServer(): Promise<LiveServer> {
  const baseUrl = process.env['CUBBY_TEST_BASE_URL']
  const apiKey = process.env['CUBBY_TEST_API_KEY']
  const dataDir = process.env['CUBBY_TEST_DATA_DIR']
  if (baseUrl && apiKey && dataDir) {
    return { baseUrl, apiKey, dataDir, env: serverEnv(dataDir), stop: async () => {} }
  }
  return startServer()
}

/** Create a workspace with a fixed id (the spec's examples hard-code `550e8400-...`). */
export async function seedWorkspace(server: LiveServer, id: string, slug: string): Promise<void> {
  await run(python(), [join(PACKAGE_DIR, 'test', 'support', 'seed_workspace.py'), id, slug], {
    env: server.env,
  })
}

let counter = 0
/** A slug no other test of this run uses. */
export function uniqueSlug(prefix: string): string {
  counter += 1
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`
}

export interface StubRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface StubServer {
  baseUrl: string
  requests: StubRequest[]
  close(): Promise<void>
}

/** An HTTP server whose answers the test scripts: `handler` sees each request in turn. */
export async function stubServer(
  handler: (request: StubRequest, index: number, response: ServerResponse) => void,
): Promise<StubServer> {
  const requests: StubRequest[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      requests.push(request)
      handler(request, requests.length - 1, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Answer with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
