/**
 * Preloaded (`node --require`) into every emulator process local/emulators.ts starts: the emulator exits as
 * soon as the process that started it is gone, however it went, SIGKILL included, so no emulator outlives
 * the runtime or test that owned it. Either of two signs suffices:
 *
 * - stdin is a pipe from the parent, and the kernel closes it when the parent dies;
 * - the parent pid changes (the orphan was re-parented), checked twice a second.
 *
 * The emulator then kills itself with SIGKILL, the one signal kinesis-local always obeys.
 */
'use strict';

const parent = process.ppid;
const exit = () => process.kill(process.pid, 'SIGKILL');

process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();

setInterval(() => {
  if (process.ppid !== parent) exit();
}, 500).unref();
