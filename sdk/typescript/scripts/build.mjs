#!/usr/bin/env node
// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with .d.ts files, with tsc only.
// Each half gets a package.json naming its module type, so Node reads .js files right in both.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
rmSync(join(root, 'dist'), { recursive: true, force: true })
for (const [config, type] of [
  ['tsconfig.json', 'module'],
  ['tsconfig.cjs.json', 'commonjs'],
]) {
  execFileSync(process.execPath, [tsc, '-p', join(root, config)], { stdio: 'inherit', cwd: root })
  const out = join(root, 'dist', type === 'module' ? 'esm' : 'cjs')
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`)
}
console.log('built dist/esm and dist/cjs')
