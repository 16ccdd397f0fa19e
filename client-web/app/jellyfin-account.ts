// The sharer's Jellyfin sign-in: by name and password, by Quick Connect (a code typed into
// another Jellyfin app), or with an API key (advanced); kept per server in this browser until
// "forget". Produces the JellyfinLibrary the panel browses. Only this page ever sees the token.

import { JellyfinClient } from "../jellyfin/client.js";
import { JellyfinLibrary } from "../jellyfin/library.js";
import { deviceId, forgetServer, saveServer, savedServers, type SavedServer } from "../jellyfin/server-store.js";

/** Quick Connect codes live a few minutes on the server; we stop asking after this. */
const QUICK_CONNECT_TIMEOUT_MS = 5 * 60_000;
const QUICK_CONNECT_POLL_MS = 2_000;

export class JellyfinAccount {
  library: JellyfinLibrary | undefined;
  saved: readonly SavedServer[] = [];
  busy = "";
  error = "";
  quickConnectCode: string | undefined;
  private quickConnectAbort: AbortController | undefined;
  private savedLoading = false;

  constructor(
    private readonly onChange: () => void,
    /** Origins this meshmeet lets pages contact (its CSP says the same), or ["*"]. */
    private readonly allowedServers: () => readonly string[] = () => ["*"],
  ) {}

  /** Reads the saved sign-ins once, when the panel is first opened (not at every page start). */
  loadSaved(): void {
    if (this.savedLoading) return;
    this.savedLoading = true;
    void savedServers().then((saved) => {
      this.saved = saved;
      this.onChange();
    });
  }

  async signIn(serverUrl: string, username: string, password: string): Promise<void> {
    const client = await this.clientFor(serverUrl);
    if (!client) return;
    await this.run("Signing in…", async () => {
      const login = await client.login(username, password);
      if (!login.ok) return login.error.message;
      await this.adopt(client, serverUrl);
      return undefined;
    });
  }

  async quickConnect(serverUrl: string): Promise<void> {
    const client = await this.clientFor(serverUrl);
    if (!client) return;
    this.quickConnectAbort?.abort();
    const abort = new AbortController();
    this.quickConnectAbort = abort;
    await this.run("Waiting for Quick Connect…", async () => {
      const started = await client.quickConnectInitiate();
      if (!started.ok) return started.error.message;
      this.quickConnectCode = started.value.Code;
      this.onChange();
      const deadline = Date.now() + QUICK_CONNECT_TIMEOUT_MS;
      while (!abort.signal.aborted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, QUICK_CONNECT_POLL_MS));
        const state = await client.quickConnectPoll(started.value.Secret);
        if (!state.ok) return state.error.message;
        if (!state.value.Authenticated) continue;
        const auth = await client.quickConnectAuthenticate(started.value.Secret);
        if (!auth.ok) return auth.error.message;
        await this.adopt(client, serverUrl);
        return undefined;
      }
      return abort.signal.aborted ? undefined : "Quick Connect timed out: no one approved the code.";
    });
    this.quickConnectCode = undefined;
    this.onChange();
  }

  cancelQuickConnect(): void {
    this.quickConnectAbort?.abort();
  }

  /** Advanced: a server API key is not a user, so the user id must be given. */
  async useApiKey(serverUrl: string, apiKey: string, userId: string): Promise<void> {
    const client = await this.clientFor(serverUrl, apiKey, userId);
    if (!client) return;
    await this.run("Checking the API key…", async () => {
      const views = await client.views();
      if (!views.ok) return views.error.message;
      await this.adopt(client, serverUrl, `user ${userId}`);
      return undefined;
    });
  }

  async useSaved(serverUrl: string): Promise<void> {
    const saved = this.saved.find((s) => s.serverUrl === serverUrl);
    if (!saved) return;
    const client = await this.clientFor(serverUrl, saved.token, saved.userId);
    if (!client) return;
    await this.run("Signing in…", async () => {
      const me = await client.me();
      if (!me.ok) return me.error.kind === "unauthorized" ? "That sign-in has expired: sign in again." : me.error.message;
      this.library?.dispose();
      this.library = new JellyfinLibrary(client, serverUrl, saved.userName);
      return undefined;
    });
  }

  async forget(serverUrl: string): Promise<void> {
    await forgetServer(serverUrl);
    if (this.library?.serverUrl === serverUrl) this.signOut();
    this.saved = await savedServers();
    this.onChange();
  }

  signOut(): void {
    this.library?.dispose();
    this.library = undefined;
    this.onChange();
  }

  private async clientFor(serverUrl: string, token?: string, userId?: string): Promise<JellyfinClient | undefined> {
    let url: URL;
    try {
      url = new URL(serverUrl);
    } catch {
      url = new URL("invalid:");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      this.error = "The server address must start with https:// (or http:// on your own network).";
      this.onChange();
      return undefined;
    }
    const allowed = this.allowedServers();
    if (!allowed.includes("*") && !allowed.includes(url.origin)) {
      this.error =
        allowed.length === 0
          ? "Watch-together is turned off on this meshmeet server."
          : `This meshmeet server only lets pages connect to these Jellyfin servers: ${allowed.join(", ")}. Ask its operator to add ${url.origin} ([jellyfin] servers).`;
      this.onChange();
      return undefined;
    }
    const base = url.href.replace(/\/+$/, "");
    return new JellyfinClient({ serverUrl: base, deviceId: await deviceId(), ...(token ? { token } : {}), ...(userId ? { userId } : {}) });
  }

  private async adopt(client: JellyfinClient, serverUrl: string, fallbackName = "you"): Promise<void> {
    const me = await client.me();
    const userName = me.ok ? me.value.Name : fallbackName;
    const session = client.session();
    if (session) await saveServer({ serverUrl, token: session.token, userId: session.userId, userName });
    this.saved = await savedServers();
    this.library?.dispose();
    this.library = new JellyfinLibrary(client, serverUrl, userName);
  }

  /** One step at a time, with words while it runs and the error (if any) after. */
  private async run(busy: string, step: () => Promise<string | undefined>): Promise<void> {
    this.busy = busy;
    this.error = "";
    this.onChange();
    try {
      this.error = (await step()) ?? "";
    } finally {
      this.busy = "";
      this.onChange();
    }
  }
}
