export interface ForgeAppRecord {
  appId: string;
  name: string;
  scopes: string[];
  installationId: string;
  connectKey: string | null;
  appUser: { accountId: string; accountType: 'app'; displayName: string; groups: string[]; administersJira: boolean };
}

export interface ForgeAppManifest {
  name: string;
  /** The manifest's permissions.scopes. */
  scopes: string[];
  /** The manifest's app.connect.key. */
  connectKey?: string;
  appId?: string;
}

export interface InstallForgeOptions {
  site: { baseUrl: string; controlToken: string; cloudId?: string };
  /** An installed app's appId, or a manifest to install; default: the site's only Forge app. */
  app?: string | ForgeAppManifest;
  /** The current user (the invocation's aaid); null for none. */
  accountId?: string | null;
  fetch?: typeof globalThis.fetch;
}

export interface ForgeFetchDescriptor {
  type: 'fpp';
  provider: 'app' | 'user' | 'none';
  remote: string;
  accountId?: string;
}

export declare class ForgeHarness {
  readonly app: ForgeAppRecord;
  readonly cloudId: string;
  readonly gatewayUrl: string;
  readonly accountId: string | null;
  setUser(accountId: string | null): void;
  reset(): void;
  uninstall(): void;
  fetchProduct(descriptor: ForgeFetchDescriptor, path: string, init?: RequestInit): Promise<Response>;
}

export declare function installForge(options: InstallForgeOptions): Promise<ForgeHarness>;
