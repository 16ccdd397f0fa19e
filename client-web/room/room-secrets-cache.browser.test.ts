/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { createStore, keys, type UseStore } from "idb-keyval";
import { deriveRoomSecrets, open, seal } from "../../common/crypto/room-crypto.js";
import { cachedRoomSecrets, forgetRoomSecrets, rememberRoomSecrets, roomSecretsMayBeKept } from "./room-secrets-cache.js";

let counter = 0;
const freshStore = (): UseStore => createStore(`meshmeet-secrets-test-${Date.now()}-${++counter}`, "secrets");

describe("kept room secrets (warm joins)", () => {
  it("give back the same hash and a working, still non-extractable key, and nothing for other rooms", async () => {
    const store = freshStore();
    expect(await cachedRoomSecrets("our room", store)).to.equal(undefined);
    const derived = await deriveRoomSecrets("our room");
    await rememberRoomSecrets("our room", derived, store);
    const kept = await cachedRoomSecrets("our room", store);
    expect(kept?.hash).to.equal(derived.hash);
    expect(kept?.key.extractable).to.equal(false);
    // What one seals, the other opens: it is the same key.
    const sealed = await seal(derived.key, "hello");
    expect(kept ? await open(kept.key, sealed) : undefined).to.deep.equal({ ok: true, value: "hello" });
    expect(await cachedRoomSecrets("another room", store)).to.equal(undefined);
  });

  it("never stores the secret, or a plain hash of it, as a key", async () => {
    const store = freshStore();
    await rememberRoomSecrets("a secret name", await deriveRoomSecrets("a secret name"), store);
    const stored = (await keys(store)).map(String);
    expect(stored.some((key) => key.includes("a secret name"))).to.equal(false);
    expect(stored.filter((key) => key.startsWith("room:"))).to.have.length(1);
  });

  it("forgets a room", async () => {
    const store = freshStore();
    await rememberRoomSecrets("gone", await deriveRoomSecrets("gone"), store);
    await forgetRoomSecrets("gone", store);
    expect(await cachedRoomSecrets("gone", store)).to.equal(undefined);
  });

  it("say at once, without IndexedDB, whether a lookup can find anything", async () => {
    localStorage.removeItem("meshmeet:room-secrets-kept");
    expect(roomSecretsMayBeKept()).to.equal(false);
    await rememberRoomSecrets("kept", await deriveRoomSecrets("kept"), freshStore());
    expect(roomSecretsMayBeKept()).to.equal(true);
    // The hint says only that something was kept, never which room.
    expect(localStorage.getItem("meshmeet:room-secrets-kept")).to.equal("1");
  });
});
