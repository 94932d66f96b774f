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

/** One lifecycle call Understudy made to a Connect app while installing or uninstalling it. */
export interface LifecycleCall {
  event: 'installed' | 'uninstalled' | 'enabled' | 'disabled';
  url: string;
  status: number | null;
  durationMs: number;
  /** How the call was signed, e.g. `JWT RS256, kid …`. */
  authorization: string;
  body?: string;
  explanation?: string;
}

/** What became of a Connect install or uninstall. */
export interface ConnectInstallResult {
  outcome: 'installed' | 'uninstalled' | 'incomplete' | 'rejected' | 'tampered';
  key?: string;
  clientKey?: string;
  baseUrl?: string;
  descriptorUrl?: string;
  signing?: 'signed' | 'legacy';
  tamper?: ConnectTamper;
  /** For a tampered install: whether the app refused it, as it should. */
  appRefused?: boolean;
  calls: LifecycleCall[];
  problem?: string;
}

export type ConnectTamper =
  | 'expired' | 'wrong-audience' | 'wrong-qsh' | 'unknown-kid' | 'wrong-issuer' | 'symmetric' | 'unsigned'
  | 'context-qsh';

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
  /** Installs a Connect app from its descriptor URL, calling its lifecycle URLs as Jira does. */
  installConnectApp(options: {
    descriptorUrl: string;
    signing?: 'signed' | 'legacy';
    tamper?: ConnectTamper;
  }): Promise<ConnectInstallResult>;
  /** Calls the app's disabled and uninstalled URLs and marks it uninstalled. */
  uninstallConnectApp(key: string): Promise<ConnectInstallResult>;
  /** A signed-in session for a person of the site, as `name=value` for a Cookie header (12 hours). */
  sessionCookie(accountId: string): Promise<string>;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export declare class UnderstudyControlError extends Error {
  readonly status: number;
  readonly body: string;
  readonly explanation: string | null;
}

export declare function startUnderstudy(options?: StartOptions): Promise<UnderstudySite>;
export declare function findBinary(explicit?: string): string;
