/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { createStore, get, keys, set, type UseStore } from "idb-keyval";
import { defaultPrefs } from "../../common/prefs/schema.js";
import { installChangePref, PrefsStore, prefStorageKey, type ChangePrefHost, type PrefChange } from "./prefs-store.js";

let dbCounter = 0;
/** A fresh IndexedDB database per test, so tests never see each other's prefs. */
function freshStore(): UseStore {
  dbCounter += 1;
  return createStore(`meshmeet-prefs-test-${Date.now()}-${dbCounter}`, "prefs");
}

/** Behaves like `inner` for reads and fails every write, as a full or blocked disk would. */
function failingWrites(inner: UseStore): UseStore {
  return (mode, callback) => (mode === "readwrite" ? Promise.reject(new DOMException("disk full", "QuotaExceededError")) : inner(mode, callback));
}

describe("PrefsStore", () => {
  it("starts from the defaults when nothing is saved or in the link", async () => {
    const store = await PrefsStore.load([], freshStore());
    expect(store.values).to.deep.equal(defaultPrefs());
    expect(store.sourceOf("rnnoise")).to.equal("default");
    expect(store.warnings).to.deep.equal([]);
    expect(store.loadError).to.equal(undefined);
  });

  it("reads saved prefs, lets the link win, and keeps warnings", async () => {
    const storage = freshStore();
    await set(prefStorageKey("microphone_gain"), 3, storage);
    await set(prefStorageKey("rnnoise"), false, storage);
    await set(prefStorageKey("preview_rate"), "soon", storage);
    const store = await PrefsStore.load([["rnnoise", "yes"], ["colour", "red"]], storage);
    expect(store.values.microphone_gain).to.equal(3);
    expect(store.sourceOf("microphone_gain")).to.equal("stored");
    expect(store.values.rnnoise).to.equal(true);
    expect(store.sourceOf("rnnoise")).to.equal("url");
    expect(store.values.preview_rate).to.equal(8);
    expect(store.warnings.map((w) => w.code)).to.deep.equal(["bad_value", "unknown_key"]);
  });

  it("saves a valid value, tells listeners, and stops telling them after unsubscribe", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([], storage);
    const seen: PrefChange[] = [];
    const off = store.on("change", (change) => seen.push(change));
    const before = store.values;

    const result = await store.set("microphone_gain", 2.5);
    expect(result).to.deep.equal({ ok: true, value: 2.5 });
    expect(store.values.microphone_gain).to.equal(2.5);
    expect(store.values).to.not.equal(before, "a new snapshot, so lit sees the change");
    expect(Object.isFrozen(store.values)).to.equal(true);
    expect(store.sourceOf("microphone_gain")).to.equal("stored");
    expect(seen).to.deep.equal([{ key: "microphone_gain", value: 2.5 }]);
    expect(await get(prefStorageKey("microphone_gain"), storage)).to.equal(2.5);

    off();
    await store.set("rnnoise", false);
    expect(seen).to.have.length(1);
  });

  it("changes nothing on a bad value", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([], storage);
    let events = 0;
    store.on("change", () => (events += 1));
    const before = store.values;
    for (const [key, value] of [["microphone_gain", 11], ["microphone_gain", "2"], ["rnnoise", "yes"], ["language", "xx"]] as const) {
      const result = await store.set(key, value);
      expect(result.ok, `${key}=${String(value)}`).to.equal(false);
    }
    const refused = await store.set("preview_resolution", 100.5);
    expect(refused.ok ? "" : refused.error.code).to.equal("bad_value");
    expect(store.values).to.equal(before);
    expect(events).to.equal(0);
    expect(await keys(storage)).to.deep.equal([]);
  });

  it("does not save link values until the user changes them", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([["username", "ana"], ["camera_enabled", "1"]], storage);
    expect(store.values.username).to.equal("ana");
    await store.flush();
    expect(await keys(storage)).to.deep.equal([]);

    await store.set("username", "Ana B.");
    expect(await get(prefStorageKey("username"), storage)).to.equal("Ana B.");
    const next = await PrefsStore.load([], storage);
    expect(next.values.username).to.equal("Ana B.");
    expect(next.values.camera_enabled).to.equal(false);
  });

  it("unsets optional prefs (saved as null) and refuses to unset others", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([], storage);
    expect(store.values.audio_activity_threshold).to.equal(0.003);
    expect(await store.unset("audio_activity_threshold")).to.deep.equal({ ok: true, value: undefined });
    expect(store.values.audio_activity_threshold).to.equal(undefined);
    expect(await get(prefStorageKey("audio_activity_threshold"), storage)).to.equal(null);
    expect((await PrefsStore.load([], storage)).values.audio_activity_threshold).to.equal(undefined);

    const refused = await store.unset("rnnoise");
    expect(refused.ok).to.equal(false);
    expect(store.values.rnnoise).to.equal(true);
  });

  it("reset forgets saved prefs (only ours), returns to link values and defaults, and reports what changed", async () => {
    const storage = freshStore();
    await set("someone-else", "keep me", storage);
    await set(`${"meshmeet:pref:"}removed_in_this_version`, 1, storage);
    const store = await PrefsStore.load([["notify_chat", "off"]], storage);
    await store.set("microphone_gain", 4);
    await store.set("notify_chat", true);
    await store.set("rnnoise", true); // same as the default: no change event on reset
    const seen: string[] = [];
    store.on("change", ({ key }) => seen.push(key));

    await store.reset();
    expect(store.values.microphone_gain).to.equal(1);
    expect(store.values.notify_chat).to.equal(false);
    expect(store.sourceOf("notify_chat")).to.equal("url");
    expect(store.sourceOf("rnnoise")).to.equal("default");
    expect(seen.sort()).to.deep.equal(["microphone_gain", "notify_chat"]);
    expect(await keys(storage)).to.deep.equal(["someone-else"]);
  });

  it("keeps the order of writes: a set started before reset does not survive it", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([], storage);
    const setting = store.set("microphone_gain", 5);
    const resetting = store.reset();
    const after = store.set("preview_rate", 2);
    await Promise.all([setting, resetting, after]);
    const reloaded = await PrefsStore.load([], storage);
    expect(reloaded.values.microphone_gain).to.equal(1);
    expect(reloaded.values.preview_rate).to.equal(2);
  });

  it("reports a failed save as an event, keeps the value for this page, and never rejects", async () => {
    const store = await PrefsStore.load([], failingWrites(freshStore()));
    const failures: string[][] = [];
    store.on("save-failed", ({ keys: failed }) => failures.push([...failed]));
    const result = await store.set("show_log", true);
    expect(result.ok).to.equal(true);
    expect(store.values.show_log).to.equal(true);
    expect(failures).to.deep.equal([["show_log"]]);
  });

  it("runs on link values and defaults when saved prefs cannot be read", async () => {
    const broken: UseStore = () => Promise.reject(new DOMException("blocked", "InvalidStateError"));
    const store = await PrefsStore.load([["username", "ana"]], broken);
    expect(store.values.username).to.equal("ana");
    expect(store.loadError).to.be.instanceOf(DOMException);
  });
});

describe("installChangePref", () => {
  const quietly = <T>(fn: () => T): { value: T; warnings: unknown[][] } => {
    const original = console.warn;
    const warnings: unknown[][] = [];
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      return { value: fn(), warnings };
    } finally {
      console.warn = original;
    }
  };

  it("defines window.change_pref by default and removes it again", async () => {
    const store = await PrefsStore.load([], freshStore());
    const uninstall = installChangePref(store);
    expect(window.change_pref).to.be.a("function");
    expect(window.change_pref?.("microphone_gain", 2)).to.equal(true);
    expect(store.values.microphone_gain).to.equal(2);
    uninstall();
    expect(window.change_pref).to.equal(undefined);
    await store.flush();
  });

  it("validates, answers with a message, logs a warning and never throws", async () => {
    const storage = freshStore();
    const store = await PrefsStore.load([], storage);
    const host: ChangePrefHost = {};
    installChangePref(store, host);
    const changePref = host.change_pref;
    if (!changePref) throw new Error("change_pref was not installed");

    const bad: Array<[unknown, unknown]> = [
      ["microphone_gain", 99],
      ["microphone_gain", "2"],
      ["rnnoise", null],
      ["no_such_pref", 1],
      [42, true],
      [Symbol("k"), 1],
      ["__proto__", {}],
    ];
    for (const [key, value] of bad) {
      const { value: answer, warnings } = quietly(() => (changePref as (k: unknown, v: unknown) => true | string)(key, value));
      expect(answer, String(key)).to.be.a("string").and.not.equal("");
      expect(warnings, String(key)).to.have.length(1);
    }
    expect(store.values).to.deep.equal(defaultPrefs());

    expect(changePref("echo_cancellation", false)).to.equal(true);
    expect(store.values.echo_cancellation).to.equal(false);
    expect(changePref("echo_cancellation", undefined)).to.equal(true);
    expect(store.values.echo_cancellation).to.equal(undefined);
    await store.flush();
    expect(await get(prefStorageKey("echo_cancellation"), storage)).to.equal(null);
  });
});
