// The client against a fake `fetch`: what it sends, and how the daemon's
// refusals become errors that say what to do.

import { test } from "node:test";
import assert from "node:assert/strict";

import { ApiFailure, BadToken, DaemonDown, HausKiClient } from "../shared/client";

function answering(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return async (url: string, init: RequestInit) => {
    seen.url = url;
    seen.init = init;
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  };
}

test("requests carry the token and JSON, to the route under the base URL", async () => {
  const seen: { url?: string; init?: RequestInit } = {};
  const client = new HausKiClient({
    baseUrl: "http://127.0.0.1:8080/",
    token: "s3cret",
    fetch: answering(200, { title: "Add x", body: "Because" }, seen),
  });
  const draft = await client.draftPr("diff --git a/x b/x");
  assert.deepEqual(draft, { title: "Add x", body: "Because" });
  assert.equal(seen.url, "http://127.0.0.1:8080/code/pr/draft");
  const headers = seen.init?.headers as Record<string, string>;
  assert.equal(headers.authorization, "Bearer s3cret");
  assert.deepEqual(JSON.parse(String(seen.init?.body)), { diff: "diff --git a/x b/x" });
});

test("a daemon that is down, a wrong token and a refusal each say what to do", async () => {
  const down = new HausKiClient({
    baseUrl: "http://127.0.0.1:9",
    fetch: async () => {
      throw new TypeError("fetch failed");
    },
  });
  await assert.rejects(down.hints({ path: "a.rs", text: "" }), (e: Error) => {
    assert.ok(e instanceof DaemonDown);
    assert.match(e.message, /hauski serve/);
    return true;
  });
  const wrong = new HausKiClient({ baseUrl: "http://h", token: "nope", fetch: answering(401, {}) });
  await assert.rejects(wrong.commentary({ workspace: "w", file: "a", chars_changed: 1, lines_changed: 1 }), (e: Error) => {
    assert.ok(e instanceof BadToken);
    assert.match(e.message, /refused the token/);
    return true;
  });
  const missing = new HausKiClient({ baseUrl: "http://h", fetch: answering(401, {}) });
  await assert.rejects(missing.draftPr("x"), /needs a token/);
  const refused = new HausKiClient({
    baseUrl: "http://h",
    fetch: answering(400, { error: { message: "diff is not a unified diff" } }),
  });
  await assert.rejects(refused.draftPr("x"), (e: Error) => {
    assert.ok(e instanceof ApiFailure);
    assert.equal((e as ApiFailure).status, 400);
    assert.match(e.message, /not a unified diff/);
    return true;
  });
});

test("an answer from the vault keeps its sources", async () => {
  const client = new HausKiClient({
    baseUrl: "http://h",
    fetch: answering(200, {
      choices: [{ message: { content: "On Tuesday." } }],
      hauski: { sources: ["notes/plumber.md"] },
    }),
  });
  assert.deepEqual(await client.ask("When?"), { text: "On Tuesday.", sources: ["notes/plumber.md"] });
});
