/**
 * `client.thinking(workspaceId)`: sequential-thinking's chains of numbered thoughts. An unknown
 * `thoughtId` is a `BadRequestError` with `reason === 'THOUGHT_NOT_FOUND'`; a chain past its limit
 * (10,000 thoughts by default) or a thought over 64 KiB a `PayloadTooLargeError`.
 */

import type { Chain, ChainSummary, Thought, ThoughtAdded } from './agentTypes.js'
import type { APIClient, RequestOptions } from './core.js'
import { requestOptions, type Target } from './target.js'

export interface ChainOptions extends RequestOptions {
  /** Every thought by `thoughtId`, branches included (default: the main line in order). */
  includeBranches?: boolean | undefined
}

export class Thinking {
  constructor(
    private readonly client: APIClient,
    private readonly target: Target<'sequential-thinking'>,
  ) {}

  /** Add a thought to the chain's main line (a new `chainId` starts a chain). */
  async add(chainId: string, content: string, options: RequestOptions = {}): Promise<ThoughtAdded> {
    return this.target.run(this.client, 'add_thought', { chainId, content }, requestOptions(options))
  }

  /** Start (or continue) the branch `branchName` from thought `thoughtId`. */
  async branch(
    chainId: string,
    thoughtId: number,
    branchName: string,
    content: string,
    options: RequestOptions = {},
  ): Promise<Thought> {
    const input = { chainId, thoughtId, branchName, content }
    return (await this.target.run(this.client, 'branch_thought', input, requestOptions(options))).thought
  }

  /** Replace a thought's content; the earlier texts stay in `previous`, oldest first. */
  async revise(chainId: string, thoughtId: number, content: string, options: RequestOptions = {}): Promise<Thought> {
    const input = { chainId, thoughtId, content }
    return (await this.target.run(this.client, 'revise_thought', input, requestOptions(options))).thought
  }

  /** The main line in order (with `includeBranches`, every thought); an unknown chain is empty. */
  async chain(chainId: string, options: ChainOptions = {}): Promise<Chain> {
    const input = { chainId, includeBranches: options.includeBranches ?? false }
    return this.target.run(this.client, 'get_chain', input, requestOptions(options))
  }

  /** Counts, the first and last thought and the branches (deterministic, no model). */
  async summary(chainId: string, options: RequestOptions = {}): Promise<ChainSummary> {
    return this.target.run(this.client, 'summarize_chain', { chainId }, requestOptions(options))
  }

  toString(): string {
    return `Thinking(${this.target.toString()})`
  }
}
