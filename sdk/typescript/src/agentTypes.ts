/**
 * Types of the agent tools' inputs and outputs, taken from the generated action map (so from
 * the server's declarations) by action rather than by schema name.
 */

import type { BuiltinActions } from './generated/api.js'

type Actions<I extends 'agent-memory' | 'agent-scratchpad' | 'sequential-thinking'> = BuiltinActions[I]
type In<I extends keyof BuiltinActions, A extends keyof BuiltinActions[I]> = BuiltinActions[I][A] extends {
  input: infer Input
}
  ? Input
  : never
type Out<I extends keyof BuiltinActions, A extends keyof BuiltinActions[I]> = BuiltinActions[I][A] extends {
  output: infer Output
}
  ? Output
  : never

type Memory = Actions<'agent-memory'>
type Pad = Actions<'agent-scratchpad'>
type Thinking = Actions<'sequential-thinking'>

/** An entity to create: `name` and `type`, `observations` optional. */
export type NewEntity = In<'agent-memory', 'create_entities'>['entities'][number]
/** A relation to create or delete: `{ from, to, type }`. */
export type RelationSpec = In<'agent-memory', 'create_relations'>['relations'][number]
/** `{ name, type, observations, createdAt, updatedAt }`. */
export type Entity = Out<'agent-memory', 'get_entity'>['entity']
/** `{ from, to, type, createdAt }`. */
export type Relation = Out<'agent-memory', 'get_entity'>['relations'][number]
export type EntityWithRelations = Out<'agent-memory', 'get_entity'>
/** One page of `search` or `read_graph`: entities, relations, `nextCursor` (`null` on the last). */
export type GraphPage = Out<'agent-memory', 'read_graph'>
export type EntitiesCreated = Out<'agent-memory', 'create_entities'>
export type RelationsCreated = Out<'agent-memory', 'create_relations'>

/** A page without its content: `{ pageName, size, createdAt, updatedAt }` (size in UTF-8 bytes). */
export type PageInfo = Out<'agent-scratchpad', 'write_page'>
export type PageContent = Out<'agent-scratchpad', 'read_page'>
export type PageHit = Out<'agent-scratchpad', 'search_pages'>['results'][number]

export type Thought = Out<'sequential-thinking', 'revise_thought'>['thought']
export type ThoughtAdded = Out<'sequential-thinking', 'add_thought'>
export type Chain = Out<'sequential-thinking', 'get_chain'>
export type ChainSummary = Out<'sequential-thinking', 'summarize_chain'>

export type { Memory as MemoryActions, Pad as ScratchpadActions, Thinking as ThinkingActions }
