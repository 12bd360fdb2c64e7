import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SqliteMessageStore } from "../../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import { MessageStore } from "../../src/domain/ports/message-store.port.ts";
import { mountSmallFilesystem, type SmallFilesystem } from "./full-filesystem.ts";
import { tempDir } from "./temp-dir.ts";

/**
 * A data directory that can be made full and freed again, for the tests of
 * a disk-full outage. Mode "tmpfs": DATA_DIR on a real 8 MiB tmpfs filled to
 * the last page by a filler file (every store on it). Where mounting is
 * refused (not root), or DISK_FULL_TEST_MODE=injected, mode "injected": the
 * message store's log sync fails with ENOSPC while "full" (register it with
 * `register`). `description` says which one, for the test to print.
 */
export interface Outage {
  readonly mode: "tmpfs" | "injected";
  readonly description: string;
  readonly dataDir: string;
  /** Registers what the mode needs in the gateway's container (the injected mode's store). */
  readonly register?: (container: DependencyContainer) => void;
  /** True between fill() and free(). */
  readonly full: boolean;
  fill(): void;
  free(): void;
  close(): Promise<void>;
}

export async function prepareOutage(): Promise<Outage> {
  const mounted =
    process.env.DISK_FULL_TEST_MODE === "injected"
      ? { skipped: "DISK_FULL_TEST_MODE=injected" }
      : await mountSmallFilesystem(8 * 1024 * 1024);
  let full = false;
  if ("filesystem" in mounted) {
    const fs: SmallFilesystem = mounted.filesystem;
    return {
      mode: "tmpfs",
      description: `a real full filesystem (tmpfs at ${fs.path})`,
      dataDir: join(fs.path, "data"),
      get full() {
        return full;
      },
      fill: () => {
        fs.fill();
        full = true;
      },
      free: () => {
        fs.free();
        full = false;
      },
      close: () => fs.close(),
    };
  }
  const dir = await tempDir();
  const enospc = () =>
    Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, fdatasync"), { code: "ENOSPC" }));
  return {
    mode: "injected",
    description: `injected failing writes (${mounted.skipped})`,
    dataDir: dir.path,
    register: (c) =>
      c.register(MessageStore, {
        useValue: new SqliteMessageStore({
          path: join(dir.path, "messages.db"),
          syncFile: (handle) => (full ? enospc() : handle.datasync()),
        }),
      }),
    get full() {
      return full;
    },
    fill: () => (full = true),
    free: () => (full = false),
    close: dir.remove,
  };
}
