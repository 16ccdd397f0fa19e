// The Jellyfin panel: its component, the account behind it (sign-in, saved servers, the library
// browser) and what its intents do. Part of the lazily loaded features chunk (lazy-features.ts):
// nothing of it is needed to join a room.
import type { JellyfinIntent } from "../components/mm-jellyfin.js";
import "../components/mm-jellyfin.js";
import type { JellyfinAccount } from "./jellyfin-account.js";
import type { QueuedItem, WatchTogether } from "./watch-together.js";
export { JellyfinAccount } from "./jellyfin-account.js";

/** What the page lends the panel's intents: the account, the watch-together session, words. */
export interface JellyfinContext {
  readonly account: JellyfinAccount;
  readonly watch: () => Promise<WatchTogether>;
  readonly say: (message: string) => void;
  readonly changed: () => void;
}

/** Carries out what the person asked for in the Jellyfin panel. */
export async function performJellyfinIntent(intent: JellyfinIntent, context: JellyfinContext): Promise<void> {
  const { account } = context;
    switch (intent.type) {
      case "sign-in":
        return account.signIn(intent.serverUrl, intent.username, intent.password);
      case "quick-connect":
        return account.quickConnect(intent.serverUrl);
      case "cancel-quick-connect":
        return account.cancelQuickConnect();
      case "api-key":
        return account.useApiKey(intent.serverUrl, intent.apiKey, intent.userId);
      case "use-saved":
        return account.useSaved(intent.serverUrl);
      case "forget":
        return account.forget(intent.serverUrl);
      case "sign-out":
        return account.signOut();
      case "stop-share":
        await (await context.watch()).stopSharing();
        context.say("You stopped sharing the video.");
        return;
      case "enqueue":
      case "share": {
        const library = account.library;
        if (!library) return;
        const { item } = intent;
        const queued: QueuedItem = {
          client: library.client,
          selection: {
            itemId: item.id,
            mediaSourceId: item.mediaSourceId,
            audioStreamIndex: intent.audioStreamIndex,
            subtitleStreamIndex: intent.subtitleStreamIndex,
            preset: intent.preset,
            mode: intent.mode,
          },
          title: item.name,
          durationS: item.durationS ?? 0,
        };
        const watch = await context.watch();
        if (intent.type === "enqueue") {
          watch.enqueue(queued);
          context.say(`${item.name} is in the queue.`);
          return;
        }
        account.busy = `Starting ${item.name}…`;
        account.error = "";
        context.changed();
        const shared = await watch.share(queued);
        account.busy = "";
        if (shared.ok) context.say(intent.mode === "broadcast" ? `You broadcast ${item.name} to the room.` : `You share ${item.name} with the room.`);
        else account.error = `Could not share ${item.name}: ${shared.error}`;
        context.changed();
        return;
      }
    }
}
