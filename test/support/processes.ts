/** Processes the tests start, seen from outside: is a pid alive, and waiting for pids to be gone. */

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of the pids runs or timeoutMs has passed; returns those still running. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return pids.filter(isRunning);
}
