/** The part of dynalite's API the local table uses (the package ships no types). */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** How long a new table stays CREATING; the default is 500 ms. */
    createTableMs?: number;
    /** A LevelDB directory; without it the store lives in memory. */
    path?: string;
  }

  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
