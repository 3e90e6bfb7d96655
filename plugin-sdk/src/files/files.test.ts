import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic-write.js";
import { ServerIdFileError, readOrCreateServerId } from "./server-id.js";

const root = mkdtempSync(join(tmpdir(), "signet-sdk-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
};
const failure = (p: Promise<unknown>) => p.then(
  () => expect.fail("expected a failure"),
  (e: unknown) => e as Error,
);

describe("writeFileAtomic", () => {
  it("writes a new file with mode 0600 and leaves nothing else beside it", async () => {
    const dir = freshDir();
    const path = join(dir, "keys.json");
    await writeFileAtomic(path, "first");
    expect(readFileSync(path, "utf8")).toBe("first");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["keys.json"]);
  });

  it("replaces an existing file whole, bytes included, with the mode asked for", async () => {
    const dir = freshDir();
    const path = join(dir, "id");
    writeFileSync(path, "old contents that are longer than the new ones", { mode: 0o644 });
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]), { mode: 0o400 });
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(statSync(path).mode & 0o777).toBe(0o400);
    expect(readdirSync(dir)).toEqual(["id"]);
  });

  it("throws the file system's error when the directory is missing", async () => {
    const e = await failure(writeFileAtomic(join(root, "no-such-directory", "f"), "x"));
    expect((e as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("removes its temporary file and leaves the target as it was when the rename fails", async () => {
    const dir = freshDir();
    const path = join(dir, "occupied");
    mkdirSync(join(path, "inside"), { recursive: true }); // a non-empty directory cannot be renamed over
    const e = await failure(writeFileAtomic(path, "x"));
    expect((e as NodeJS.ErrnoException).code).toMatch(/^(EISDIR|ENOTEMPTY|EEXIST)$/);
    expect(readdirSync(dir)).toEqual(["occupied"]);
    expect(readdirSync(path)).toEqual(["inside"]);
  });
});

describe("readOrCreateServerId", () => {
  it("creates the file with a random UUID (mode 0600) and reads the same ID back", async () => {
    const path = join(freshDir(), "server-id");
    const id = await readOrCreateServerId(path);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(readFileSync(path, "utf8")).toBe(id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await readOrCreateServerId(path)).toBe(id);
    expect(await readOrCreateServerId(join(freshDir(), "server-id")), "a second file gets another ID").not.toBe(id);
  });

  it("reads the forms Go's uuid.FromString reads, forgives surrounding whitespace, and answers the canonical form", async () => {
    const path = join(freshDir(), "server-id");
    const forms = [
      "1F2E225A-91D8-4589-A4FE-F88B7BB04BAC",
      "1f2e225a91d84589a4fef88b7bb04bac",
      "{1f2e225a-91d8-4589-a4fe-f88b7bb04bac}",
      "urn:uuid:1f2e225a-91d8-4589-a4fe-f88b7bb04bac",
      "1f2e225a-91d8-4589-a4fe-f88b7bb04bac\n",
      "1f2e225a-91d8-4589-a4fe-f88b7bb04bac\r\n",
    ];
    for (const text of forms) {
      writeFileSync(path, text);
      expect(await readOrCreateServerId(path), JSON.stringify(text)).toBe("1f2e225a-91d8-4589-a4fe-f88b7bb04bac");
    }
  });

  it("refuses a file that does not hold a UUID, naming the path, and leaves it as it was", async () => {
    const path = join(freshDir(), "server-id");
    for (const text of ["server-1", "", "1f2e225a-91d8-4589-a4fe-f88b7bb04ba", "1f2e225a-91d8-4589-a4fe-f88b7bb04bac-00"]) {
      writeFileSync(path, text);
      const e = await failure(readOrCreateServerId(path));
      expect(e).toBeInstanceOf(ServerIdFileError);
      expect((e as ServerIdFileError).problem, JSON.stringify(text)).toBe("parse");
      expect(e.message).toBe(`${JSON.stringify(path)} does not hold a UUID`);
      expect(readFileSync(path, "utf8")).toBe(text);
    }
  });

  it("says which step failed: reading a path that is a directory, persisting under a missing directory", async () => {
    const dir = freshDir();
    const read = await failure(readOrCreateServerId(dir));
    expect(read).toBeInstanceOf(ServerIdFileError);
    expect((read as ServerIdFileError).problem).toBe("read");
    expect(read.message).toMatch(/EISDIR/);
    const persist = await failure(readOrCreateServerId(join(dir, "missing", "server-id")));
    expect((persist as ServerIdFileError).problem).toBe("persist");
    expect(persist.message).toMatch(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
