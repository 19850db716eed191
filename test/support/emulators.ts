/**
 * The emulator lifecycle every integration test file shares: start the requested emulators once for the
 * file, point the AWS SDK clients at them through the standard endpoint variables, and afterwards restore
 * the environment and stop every emulator by PID. Call it at the top of the file, before other hooks that
 * use the clients (vitest runs the after-hooks in reverse, so the emulators are stopped last).
 */
import { afterAll, beforeAll } from 'vitest';
import { resetClients } from '../../adapters/aws-clients';
import { startEmulators, type Emulators, type StartEmulatorsOptions } from '../../local/emulators';

export function useEmulators(options: StartEmulatorsOptions): () => Emulators {
  let emulators: Emulators | undefined;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    emulators = await startEmulators(options);
    Object.assign(process.env, emulators.env);
    resetClients();
  }, 60_000);
  afterAll(async () => {
    resetClients();
    process.env = savedEnv;
    await emulators?.stop();
  });
  return () => {
    if (!emulators) throw new Error('the emulators are not started yet: use them inside tests and hooks');
    return emulators;
  };
}
