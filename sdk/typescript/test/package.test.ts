// The built package: the ESM build imports and works with no node_modules beside it (no runtime
// dependency), and the package's `exports` resolve for `import` and `require`, types included.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

import { VERSION } from 'cubby-client'

import { liveServer, PACKAGE_DIR, type LiveServer } from './support/server.js'

const run = promisify(execFile)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let server: LiveServer
let scratch: string

before(async () => {
  server = await liveServer()
  scratch = mkdtempSync(join(tmpdir(), 'cubby-ts-pkg-'))
})
after(async () => {
  await server.stop()
  rmSync(scratch, { recursive: true, force: true })
})

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

const USE = (source: string) => `
const client = new Cubby({ apiKey: process.env.KEY, baseUrl: process.env.URL })
const page = await client.workspaces.list({ limit: 1 })
const ok = typeof page.total === 'number' && client instanceof WeavzClient
console.log(JSON.stringify({ ok, source: ${source} }))
`

test('the ESM build runs from a folder with no node_modules anywhere above it', async () => {
  const lonely = join(scratch, 'lonely')
  cpSync(join(PACKAGE_DIR, 'dist', 'esm'), lonely, { recursive: true })
  const entry = pathToFileURL(join(lonely, 'index.js')).href
  const script = `import { Cubby, WeavzClient } from ${JSON.stringify(entry)}\n${USE('"esm"')}`
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: scratch,
    env: { PATH: process.env['PATH'], KEY: server.apiKey, URL: server.baseUrl },
  })
  assert.deepEqual(JSON.parse(stdout), { ok: true, source: 'esm' })
  // and no file of either build imports anything but its siblings
  for (const file of walk(join(PACKAGE_DIR, 'dist')).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '') // not in doc comments
    const specifiers = [...text.matchAll(/(?:from\s+|require\(|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!)
    for (const specifier of specifiers) assert.match(specifier, /^\.\.?\//, `${file} imports ${specifier}`)
  }
})

test('packed and installed: exports resolve for import and require, with types', async () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'))
  assert.equal(pkg.version, VERSION)
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies')
  const { stdout: packed } = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {
    cwd: PACKAGE_DIR,
  })
  const tarball = join(scratch, JSON.parse(packed)[0].filename)
  const app = join(scratch, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  await run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app })
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')), ['cubby-client'])

  const env = { PATH: process.env['PATH'], KEY: server.apiKey, URL: server.baseUrl }
  const esm = `import { Cubby, WeavzClient } from 'cubby-client'
console.error(import.meta.resolve('cubby-client'))\n${USE('"import"')}`
  const { stdout: a, stderr: aPath } = await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: app, env })
  assert.deepEqual(JSON.parse(a), { ok: true, source: 'import' })
  assert.match(aPath, /cubby-client\/dist\/esm\/index\.js/)

  const cjs = `const { Cubby, WeavzClient } = require('cubby-client')
console.error(require.resolve('cubby-client'));
(async () => {${USE('"require"')}})().catch((e) => { console.error(e); process.exit(1) })`
  const { stdout: b, stderr: bPath } = await run(process.execPath, ['-e', cjs], { cwd: app, env })
  assert.deepEqual(JSON.parse(b), { ok: true, source: 'require' })
  assert.match(bPath, /cubby-client\/dist\/cjs\/index\.js/)

  // TypeScript consumers get the types of either build (NodeNext: .mts imports, .cts requires)
  writeFileSync(
    join(app, 'use.mts'),
    `import { Cubby } from 'cubby-client'\nconst c = new Cubby({ apiKey: 'k' })\n` +
      `export const v: Promise<unknown> = c.kv('w').get('k')\n`,
  )
  writeFileSync(
    join(app, 'use.cts'),
    `import cubby = require('cubby-client')\n` +
      `const c = new cubby.Cubby({ apiKey: 'k' })\nexport const v: Promise<unknown> = c.kv('w').get('k')\n`,
  )
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [] },
      files: ['use.mts', 'use.cts'],
    }),
  )
  const tsc = join(PACKAGE_DIR, 'node_modules', 'typescript', 'bin', 'tsc')
  await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json'), '--traceResolution'], { cwd: app }).then(
    ({ stdout }) => {
      assert.match(stdout, /dist\/esm\/index\.d\.ts/)
      assert.match(stdout, /dist\/cjs\/index\.d\.ts/)
    },
  )
})
