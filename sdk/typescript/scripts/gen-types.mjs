#!/usr/bin/env node
// Writes src/generated/api.ts from cubby's OpenAPI document, so the SDK's types come from the
// same declarations that validate requests on the server (the action input Structs and the
// wire Structs). Never edit the generated file; run `npm run gen` after changing the server.
//
//   node scripts/gen-types.mjs              ask `create_app` (through scripts/openapi_document.py)
//   node scripts/gen-types.mjs --from FILE  a saved document, or http://host:port/openapi.json
//   node scripts/gen-types.mjs --check      exit 1 when the file on disk differs (stale)
//
// The Python interpreter is $CUBBY_PYTHON, else the repo's .venv/bin/python.
//
// What it emits: one `export interface` (or `type`) per component schema, and `BuiltinActions`,
// the map (integration -> action -> {input, output}) read from the `Execute.<integration>.
// <action>` variants of the execute request (`input` is their input schema, `x-output` the
// schema of their output). `actions.execute` is typed from that map.

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const PACKAGE = resolve(HERE, '..')
export const OUTPUT = join(PACKAGE, 'src', 'generated', 'api.ts')
const REF = '#/components/schemas/'
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Component schemas the SDK types itself (generically) instead of taking them as they are. */
const SKIPPED = new Set(['ExecuteRequestByAction', 'ExecuteResponse'])

function refName(ref) {
  if (!ref.startsWith(REF)) throw new Error(`unsupported $ref ${ref}`)
  return ref.slice(REF.length)
}

function key(name) {
  return IDENT.test(name) ? name : JSON.stringify(name)
}

function comment(schema, indent) {
  if (!schema.description) return ''
  const clean = schema.description.replace(/\*\//g, '* /').replace(/``/g, '`').trim()
  return `${indent}/** ${clean} */\n`
}

/** The description of a property: on the property, or on the non-null branch of an anyOf. */
function describe(schema) {
  if (schema.description) return schema
  for (const branch of schema.anyOf ?? []) if (branch.description) return branch
  return schema
}

function union(parts) {
  const unique = [...new Set(parts)]
  if (unique.includes('unknown')) return 'unknown'
  return unique.join(' | ')
}

/** The TypeScript type for a JSON Schema, as msgspec writes them. */
export function tsType(schema, indent = '') {
  if (schema === true || schema === undefined) return 'unknown'
  if (schema.$ref) return refName(schema.$ref)
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (schema.enum) return union(schema.enum.map((v) => JSON.stringify(v)))
  const variants = schema.anyOf ?? schema.oneOf
  // Variants without a type of their own next to a typed schema only refine it (e.g. "scope
  // 'workspace' needs workspaceIds"): the TypeScript type is the schema's own.
  const refinements = schema.type && variants?.every((v) => !v.type && !v.$ref && !v.anyOf && !v.oneOf)
  if (variants && !refinements) return union(variants.map((v) => tsType(v, indent)))
  const type = schema.type
  if (Array.isArray(type)) return union(type.map((t) => tsType({ ...schema, type: t }, indent)))
  switch (type) {
    case 'string':
      return 'string'
    case 'integer':
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array': {
      const item = tsType(schema.items, indent)
      return /^[\w.$]+$/.test(item) ? `${item}[]` : `Array<${item}>`
    }
    case 'object':
      return objectType(schema, indent)
    default:
      return 'unknown'
  }
}

function objectType(schema, indent) {
  const props = schema.properties ?? {}
  const names = Object.keys(props)
  const extra = schema.additionalProperties
  if (names.length === 0) {
    // An index signature, not Record<...>: a type alias may refer to itself through it
    // (e.g. a JSON value whose objects hold JSON values), which Record does not allow.
    if (extra && extra !== true) return `{ [key: string]: ${tsType(extra, indent)} }`
    return 'Record<string, unknown>'
  }
  const required = new Set(schema.required ?? [])
  const inner = `${indent}  `
  const lines = names.map((name) => {
    const prop = props[name]
    const optional = required.has(name) ? '' : '?'
    return `${comment(describe(prop), inner)}${inner}${key(name)}${optional}: ${tsType(prop, inner)}`
  })
  if (extra && extra !== true) lines.push(`${inner}[key: string]: ${tsType(extra, inner)}`)
  return `{\n${lines.join('\n')}\n${indent}}`
}

function declaration(name, schema) {
  const doc = comment(schema, '')
  const body = tsType(schema)
  if (body.startsWith('{\n')) return `${doc}export interface ${name} ${body}\n`
  return `${doc}export type ${name} = ${body}\n`
}

/** The builtin actions: integration -> action -> { input, output } (schema names). */
export function builtinActions(doc) {
  const schemas = doc.components?.schemas ?? {}
  const byIntegration = new Map()
  for (const [name, schema] of Object.entries(schemas)) {
    if (!name.startsWith('Execute.')) continue
    const integration = schema.properties?.integrationName?.const
    const action = schema.properties?.actionName?.const
    const input = schema.properties?.input
    const output = schema['x-output']
    if (typeof integration !== 'string' || typeof action !== 'string' || !input || !output) {
      throw new Error(`${name}: expected const integrationName/actionName, input and x-output`)
    }
    if (!byIntegration.has(integration)) byIntegration.set(integration, [])
    byIntegration.get(integration).push({ action, input: tsType(input), output: tsType(output) })
  }
  return byIntegration
}

/** The whole generated module for an OpenAPI document. */
export function renderTypes(doc) {
  const schemas = doc.components?.schemas ?? {}
  const out = [
    '// Generated by scripts/gen-types.mjs from the OpenAPI document of cubby ' +
      `${doc.info?.version ?? ''}`.trimEnd() +
      '.',
    '// Do not edit: change the server, then run `npm run gen` (a test fails when this is stale).',
    '/* eslint-disable */',
    '',
  ]
  for (const [name, schema] of Object.entries(schemas)) {
    if (name.startsWith('Execute.') || SKIPPED.has(name)) continue
    if (!IDENT.test(name)) throw new Error(`schema name ${name} is not an identifier`)
    out.push(declaration(name, schema))
  }
  const actions = builtinActions(doc)
  out.push('/** Every built-in action with the types of its input and output. */')
  out.push('export interface BuiltinActions {')
  for (const [integration, list] of actions) {
    out.push(`  ${key(integration)}: {`)
    for (const { action, input, output } of list) {
      out.push(`    ${key(action)}: { input: ${input}; output: ${output} }`)
    }
    out.push('  }')
  }
  out.push('}')
  out.push('')
  return out.join('\n')
}

function readDocument(from) {
  if (!from) {
    const repo = resolve(PACKAGE, '..', '..')
    const python = process.env.CUBBY_PYTHON || join(repo, '.venv', 'bin', 'python')
    if (!existsSync(python)) {
      throw new Error(`no Python at ${python}: run \`make .venv/.installed-dev\` or set CUBBY_PYTHON`)
    }
    const text = execFileSync(python, [join(HERE, 'openapi_document.py')], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    return JSON.parse(text)
  }
  return JSON.parse(readFileSync(from, 'utf8'))
}

async function main(argv) {
  const check = argv.includes('--check')
  const at = argv.indexOf('--from')
  const from = at >= 0 ? argv[at + 1] : undefined
  const doc = /^https?:/.test(from ?? '')
    ? await (await fetch(from)).json()
    : readDocument(from)
  const text = renderTypes(doc)
  if (check) {
    const current = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : ''
    if (current !== text) {
      console.error(`${OUTPUT} is stale: run \`npm run gen\` in sdk/typescript`)
      process.exit(1)
    }
    console.log(`${OUTPUT} is up to date`)
    return
  }
  writeFileSync(OUTPUT, text)
  console.log(`wrote ${OUTPUT}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
