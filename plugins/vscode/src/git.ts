// The workspace's change against its base branch, as a unified diff, from
// git itself (the same text `git diff` prints, which /code/pr/draft reads).

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** The base branch: the one given, else origin/HEAD, main or master, whichever exists. */
export async function baseBranch(cwd: string, configured?: string): Promise<string> {
  const candidates = configured ? [configured] : ["origin/HEAD", "origin/main", "main", "master"];
  for (const candidate of candidates) {
    try {
      await git(cwd, "rev-parse", "--verify", "--quiet", `${candidate}^{commit}`);
      return candidate;
    } catch {
      // not there: the next
    }
  }
  throw new Error(
    configured
      ? `the base branch ${configured} does not exist in ${cwd}`
      : `no base branch (origin/HEAD, main or master) in ${cwd}; set hauski.baseBranch`,
  );
}

/** The diff of the working tree (committed and not) against where it left the base. */
export async function diffAgainstBase(cwd: string, configured?: string): Promise<string> {
  const base = await baseBranch(cwd, configured);
  const forkPoint = (await git(cwd, "merge-base", base, "HEAD")).trim();
  const diff = await git(cwd, "diff", forkPoint);
  if (!diff.trim()) throw new Error(`nothing has changed since ${base}`);
  return diff;
}
