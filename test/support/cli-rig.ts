import { join } from 'node:path';
import type { Seed } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { type LocalTable, startLocalTable } from './dynamodb';
import { offlineEnv, ROOT, run } from './process';

const CLI = join(ROOT, 'dist', 'cvpn-evict.js');

export interface CliRig {
  /** One emulator for the file, back to `seed` before each test. */
  emulator: RunningEmulator;
  /** A fresh quarantine table on dynalite for each test. */
  table: LocalTable;
  /** The quarantine adapter on that table, to read what the CLI wrote. */
  store: DynamoDbQuarantineStore;
  /**
   * The built CLI in a child process with no AWS credentials, the SDK pointed at the table by
   * AWS_ENDPOINT_URL_DYNAMODB, as docs/cli.md says; `USER` names the operator in what it records. `cwd` is the
   * folder whose ./cdk.json it reads (the checkout's by default).
   */
  cli(args: string[], env?: Record<string, string>, cwd?: string): ReturnType<typeof run>;
}

/** The emulator seeded with `seed` and a fresh table per test, for the CLI's tests; its hooks go in the caller's file. */
export function useCliRig(seed: Seed): CliRig {
  const rig = {
    cli: (args: string[], env: Record<string, string> = {}, cwd?: string) =>
      run(process.execPath, [CLI, ...args], {
        env: { ...offlineEnv(), AWS_ENDPOINT_URL_DYNAMODB: rig.table.db.url, USER: 'jdoe', ...env },
        ...(cwd ? { cwd } : {}),
      }),
  } as CliRig;
  beforeAll(async () => {
    rig.emulator = await startEmulator({ seed });
  });
  afterAll(() => rig.emulator.close());
  beforeEach(async () => {
    rig.emulator.reset();
    rig.table = await startLocalTable();
    rig.store = new DynamoDbQuarantineStore(rig.table.client, rig.table.db.tableName);
  });
  afterEach(() => rig.table.close());
  return rig;
}
