#!/usr/bin/env node
// The test run: build the package, compile the tests (strict), start one live `cubby serve`
// for the whole run, then Node's own test runner over build/test/**/*.test.js.
//
//   npm test                      everything
//   npm test -- build/test/x.test.js   some files (they are compiled first either way)
//
// Test files that need a server of their own (README, package) start it themselves.
import { spawn, execFileSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' })
rmSync(join(root, 'build', 'test'), { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.test.json')], { stdio: 'inherit' })

const given = process.argv.slice(2)
const files = given.length
  ? given
  : readdirSync(join(root, 'build', 'test'))
      .filter((name) => name.endsWith('.test.js'))
      .sort()
      .map((name) => join('build', 'test', name))

const { startServer } = await import(pathToFileURL(join(root, 'build', 'test', 'support', 'server.js')).href)
const server = await startServer()
let code = 1
try {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      CUBBY_TEST_BASE_URL: server.baseUrl,
      CUBBY_TEST_API_KEY: server.apiKey,
      CUBBY_TEST_DATA_DIR: server.dataDir,
    },
  })
  code = await new Promise((r) => child.on('exit', (status) => r(status ?? 1)))
} finally {
  await server.stop()
}
process.exit(code)
