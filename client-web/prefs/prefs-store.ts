// The page's preferences: resolved once from the link, IndexedDB and defaults, then changed
// through `set`/`unset`/`reset`, which validate, update memory, tell listeners and save. One
// instance per page, created by the boot code and handed down (no module-level singleton).
// Validation and precedence live in common/prefs/resolve.ts; this file only adds storage and
// listeners.

import { delMany, getMany, keys as storedKeys, set as storeValue, type UseStore } from "idb-keyval";
import { Emitter } from "../../common/events.js";
import { checkPrefValue, resolvePrefs, type PrefSource, type PrefWarning } from "../../common/prefs/resolve.js";
import { PREF_KEYS, isPrefKey, type PrefKey, type PrefValues } from "../../common/prefs/schema.js";
import { err, ok, type Result } from "../../common/result.js";

/** Every pref is one idb-keyval entry; the prefix keeps them apart from other users of the store. */
export const PREF_STORAGE_PREFIX = "meshmeet:pref:";

export function prefStorageKey(key: PrefKey): string {
  return `${PREF_STORAGE_PREFIX}${key}`;
}

/** One pref's new value, typed per key. */
export type PrefChange = { [K in PrefKey]: { readonly key: K; readonly value: PrefValues[K] } }[PrefKey];

export type PrefsStoreEvents = {
  /** After a successful `set`/`unset`, and for each key whose value changed on `reset`; `values` is already updated. */
  change: PrefChange;
  /** Saving failed; the value still applies to this page but will be gone after a reload. */
  "save-failed": { readonly keys: readonly PrefKey[]; readonly error: unknown };
};

type Params = ReadonlyArray<readonly [string, string]>;

export class PrefsStore {
  private readonly emitter = new Emitter<PrefsStoreEvents>();
  /** Writes run one after the other, so the last call always wins in storage as in memory. */
  private writes: Promise<void> = Promise.resolve();
  private current: Readonly<PrefValues>;
  private currentSources: Readonly<Record<PrefKey, PrefSource>>;
  private currentWarnings: readonly PrefWarning[];

  private constructor(
    private readonly urlParams: Params,
    private readonly storage: UseStore | undefined,
    stored: Partial<Record<PrefKey, unknown>>,
    /** Set when saved prefs could not be read; the page then runs on link values and defaults. */
    readonly loadError: unknown,
  ) {
    const resolved = resolvePrefs({ url: urlParams, stored });
    this.current = Object.freeze(resolved.values);
    this.currentSources = Object.freeze(resolved.sources);
    this.currentWarnings = Object.freeze(resolved.warnings);
  }

  /**
   * Reads every saved pref and resolves them with the link's `key=value` pairs
   * (`parseRoomFragment(location.hash).params`). `storage` is an idb-keyval `createStore(…)`
   * (tests use their own database); without it idb-keyval's default store is used.
   */
  static async load(urlParams: Params, storage?: UseStore): Promise<PrefsStore> {
    let stored: Partial<Record<PrefKey, unknown>> = {};
    let loadError: unknown;
    try {
      const found = await getMany(PREF_KEYS.map(prefStorageKey), storage);
      stored = Object.fromEntries(PREF_KEYS.map((key, i) => [key, found[i]]));
    } catch (error) {
      // Safe to go on: saved prefs are conveniences, and a meeting works on link values and
      // defaults. The failure is kept in `loadError` for the page to mention.
      loadError = error;
    }
    return new PrefsStore(urlParams, storage, stored, loadError);
  }

  /** A frozen snapshot, replaced (never mutated) on every change, so `===` tells a change. */
  get values(): Readonly<PrefValues> {
    return this.current;
  }

  /** Where each current value came from; frozen, replaced on change like `values`. */
  get sources(): Readonly<Record<PrefKey, PrefSource>> {
    return this.currentSources;
  }

  /** What was ignored at load (bad or unknown link parameters, bad saved values). */
  get warnings(): readonly PrefWarning[] {
    return this.currentWarnings;
  }

  sourceOf(key: PrefKey): PrefSource {
    return this.currentSources[key];
  }

  on<K extends keyof PrefsStoreEvents>(type: K, listener: (payload: PrefsStoreEvents[K]) => void): () => void {
    return this.emitter.on(type, listener);
  }

  /**
   * Validates and applies `value`, tells listeners, then saves it; resolves once saved. On a
   * bad value nothing changes and the warning says why. Never rejects: a failed save is a
   * "save-failed" event. Values that came from the link are not saved at load (they apply to
   * this visit only); the user choosing a value here is what makes it saved.
   */
  async set<K extends PrefKey>(key: K, value: unknown): Promise<Result<PrefValues[K], PrefWarning>> {
    const checked = checkPrefValue(key, value);
    if (!checked.ok) return checked;
    this.apply(key, checked.value);
    // null, not undefined, marks a saved "unset": idb-keyval's get gives undefined for "never saved".
    await this.save([key], () => storeValue(prefStorageKey(key), checked.value ?? null, this.storage));
    return checked;
  }

  /** Unsets an optional pref (keks-meet's enable checkbox unticked) and saves that choice. */
  async unset(key: PrefKey): Promise<Result<undefined, PrefWarning>> {
    const checked = checkPrefValue(key, undefined);
    if (!checked.ok) return err(checked.error);
    this.apply(key, undefined);
    await this.save([key], () => storeValue(prefStorageKey(key), null, this.storage));
    return ok(undefined);
  }

  /** Forgets every saved pref: values return to the link's, then the defaults. */
  async reset(): Promise<void> {
    const before = this.current;
    const resolved = resolvePrefs({ url: this.urlParams, stored: {} });
    this.current = Object.freeze(resolved.values);
    this.currentSources = Object.freeze(resolved.sources);
    this.currentWarnings = Object.freeze(resolved.warnings);
    for (const key of PREF_KEYS) {
      if (!Object.is(before[key], this.current[key])) this.emitChange(key);
    }
    await this.save([...PREF_KEYS], async () => {
      // Also removes entries of prefs that a newer or older version had and this one lacks.
      const ours = (await storedKeys(this.storage)).filter(
        (k): k is string => typeof k === "string" && k.startsWith(PREF_STORAGE_PREFIX),
      );
      await delMany(ours, this.storage);
    });
  }

  /** Resolves when every write started so far has finished (or failed and been reported). */
  flush(): Promise<void> {
    return this.writes;
  }

  private apply<K extends PrefKey>(key: K, value: PrefValues[K]): void {
    this.current = Object.freeze({ ...this.current, [key]: value });
    this.currentSources = Object.freeze({ ...this.currentSources, [key]: "stored" });
    this.emitChange(key);
  }

  private emitChange(key: PrefKey): void {
    // The pairing of key and value holds by construction: both come from `this.current`.
    this.emitter.emit("change", { key, value: this.current[key] } as PrefChange);
  }

  private save(keys: readonly PrefKey[], write: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(write).catch((error: unknown) => {
      // Converted to an event: the in-memory value stays valid for this page.
      this.emitter.emit("save-failed", { keys, error });
    });
    return this.writes;
  }
}

/** keks-meet's console API: `change_pref("microphone_gain", 2)`; `true` when applied, else why not. */
export type ChangePref = (key: string, value: unknown) => true | string;

declare global {
  interface Window {
    change_pref?: ChangePref;
  }
}

export interface ChangePrefHost {
  change_pref?: ChangePref;
}

/**
 * Defines `target.change_pref` on top of `store`: validated (unlike keks-meet), never
 * throws, logs a warning on bad input. `undefined`/`null` unset an optional pref. Returns the
 * function that removes it again.
 */
export function installChangePref(store: PrefsStore, target: ChangePrefHost = window): () => void {
  const changePref: ChangePref = (key: unknown, value: unknown) => {
    const problem = changePrefProblem(store, key, value);
    if (problem === undefined) return true;
    console.warn(`change_pref: ${problem}`);
    return problem;
  };
  target.change_pref = changePref;
  return () => {
    if (target.change_pref === changePref) delete target.change_pref;
  };
}

/** Applies the change, or says in words why not. */
function changePrefProblem(store: PrefsStore, key: unknown, value: unknown): string | undefined {
  if (typeof key !== "string") return "the first argument must be the name of a setting, as text.";
  if (!isPrefKey(key)) return `“${key.slice(0, 40)}” is not a setting.`;
  // Validation is synchronous, so the answer is known before the save; the returned promises
  // never reject (a failed save becomes the store's "save-failed" event).
  if (value === undefined || value === null) {
    const checked = checkPrefValue(key, undefined);
    if (!checked.ok) return checked.error.message;
    void store.unset(key);
    return undefined;
  }
  const checked = checkPrefValue(key, value);
  if (!checked.ok) return checked.error.message;
  void store.set(key, checked.value);
  return undefined;
}
