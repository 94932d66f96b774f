import type { ChildProcess } from 'node:child_process';

export interface StartOptions {
  /** The understudy executable (default: $UNDERSTUDY_BINARY, the bundled one, then the repository's .build). */
  binary?: string;
  /** A site file (JSON) to load instead of the demo site. */
  seed?: string;
  /** `:memory:` (default), a SQLite file, or a postgres:// URL. */
  database?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The control API's token (default: a random one). */
  controlToken?: string;
  /** More arguments for `understudy serve`. */
  args?: string[];
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface JournalEntry {
  time: string;
  requestId: string;
  method: string;
  path: string;
  caller:
    | { type: 'anonymous' }
    | { type: 'user'; accountId: string }
    | { type: 'app'; appKey: string; accountId: string }
    | { type: 'oauth'; clientId: string; accountId: string }
    | { type: 'forge'; appId: string; accountId: string };
  status: number;
  explanation: string | null;
  durationMs: number;
}

export interface ForgeToken {
  token: string;
  expiresIn: number;
  accountId: string;
  appId: string;
  kind: 'app-system-token' | 'app-user-token';
}

export declare class UnderstudySite {
  readonly baseUrl: string;
  readonly cloudId: string;
  readonly controlToken: string;
  /** `${baseUrl}/ex/jira/${cloudId}`: the API gateway, where Forge Remotes and OAuth apps call. */
  readonly gatewayUrl: string;
  readonly process: ChildProcess;
  readonly output: string;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  reset(): Promise<void>;
  journal(filters?: { path?: string; caller?: string; status?: string | number; limit?: number }): Promise<JournalEntry[]>;
  forgeToken(options: { appId: string; accountId?: string }): Promise<ForgeToken>;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export declare class UnderstudyControlError extends Error {
  readonly status: number;
  readonly body: string;
  readonly explanation: string | null;
}

export declare function startUnderstudy(options?: StartOptions): Promise<UnderstudySite>;
export declare function findBinary(explicit?: string): string;
