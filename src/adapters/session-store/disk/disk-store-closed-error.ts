/** A call on a disk session store after `close()`: refused, so that nothing is written (or created) behind the owner's back. */
export class DiskSessionStoreClosedError extends Error {
  override readonly name = "DiskSessionStoreClosedError";
  readonly code = "SESSION_STORE.CLOSED";
  constructor(readonly dataDir: string) {
    super(`disk session store on ${dataDir} is closed`);
  }
}
