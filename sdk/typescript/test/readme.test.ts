// The README's examples run: every ```ts block of README.md, in order, as one ES module against
// a fresh `cubby serve` (CUBBY_API_KEY / CUBBY_BASE_URL in the environment, as a user has them).
// A `console.log(...)` followed by `// -> text` must print exactly `text`.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'

import { PACKAGE_DIR, startServer, type LiveServer } from './support/server.js'

const run = promisify(execFile)
// Inside the package, so `import ... from 'cubby-client'` resolves to this package's build.
const WORK = join(PACKAGE_DIR, 'build', 'readme')
const MARK = '__README_RESULTS__'

let server: LiveServer
before(async () => {
  server = await startServer() // its own: the README creates the workspace slug 'acme'
  rmSync(WORK, { recursive: true, force: true })
  mkdirSync(WORK, { recursive: true })
})
after(async () => {
  await server.stop()
})

/** The ts blocks, with checked console.log lines routed to `__log`, and their expected text. */
function readmeModule(): { source: string; expected: string[] } {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
  assert.ok(blocks.length >= 6, `found ${blocks.length} ts blocks`)
  const expected: string[] = []
  const body = blocks
    .join('\n')
    .split('\n')
    .map((line) => {
      const checked = /^(\s*)console\.log\((.*)\) \/\/ -> (.*)$/.exec(line)
      if (!checked) return line
      expected.push(checked[3]!)
      return `${checked[1]}__log(${checked[2]})`
    })
  const prelude = [
    "import { format as __format } from 'node:util'",
    'const __results: string[] = []',
    'function __log(...args: unknown[]): void { __results.push(__format(...args)) }',
  ]
  const epilogue = [`console.log('${MARK}' + JSON.stringify(__results))`]
  return { source: [...prelude, ...body, ...epilogue].join('\n'), expected }
}

test('every ts block of README.md type-checks (strict) and runs, printing what it says', async () => {
  const { source, expected } = readmeModule()
  writeFileSync(join(WORK, 'readme.ts'), source)
  writeFileSync(
    join(WORK, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        types: ['node'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: true,
        rootDir: '.',
        outDir: '.',
      },
      files: ['readme.ts'],
    }),
  )
  const tsc = join(PACKAGE_DIR, 'node_modules', 'typescript', 'bin', 'tsc')
  await run(process.execPath, [tsc, '-p', join(WORK, 'tsconfig.json')]).catch((error: { stdout?: string }) => {
    assert.fail(`README examples do not type-check:\n${error.stdout ?? String(error)}`)
  })
  const env = { ...server.env, CUBBY_API_KEY: server.apiKey, CUBBY_BASE_URL: server.baseUrl }
  const { stdout } = await run(process.execPath, [join(WORK, 'readme.js')], { env, cwd: WORK })
  const line = stdout.split('\n').find((l) => l.startsWith(MARK))
  assert.ok(line, `no results in:\n${stdout}`)
  assert.deepEqual(JSON.parse(line.slice(MARK.length)), expected)
  assert.match(stdout, /^reports\/monthly\.json \d+$/m, 'the list loop printed the report')
})
