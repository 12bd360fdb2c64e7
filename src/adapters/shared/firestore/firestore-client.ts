import { randomBytes } from "node:crypto";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";

export interface FirestoreClientOptions {
  readonly projectId: string;
  /** `host:port` of an emulator; without it `FIRESTORE_EMULATOR_HOST` or Google's endpoint is used. */
  readonly emulatorHost?: string;
  /** Names the app in logs and errors. */
  readonly purpose: string;
}

export interface FirestoreClient {
  readonly db: Firestore;
  /** Terminates the client and deletes its app. */
  close(): Promise<void>;
}

/**
 * A Firestore client on a named app of its own, so several adapters (and
 * several instances in one test process) each have their own connection.
 */
export function openFirestoreClient(options: FirestoreClientOptions): FirestoreClient {
  const app = initializeApp(
    { projectId: options.projectId },
    `${options.purpose}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const db = getFirestore(app);
  if (options.emulatorHost !== undefined) db.settings({ host: options.emulatorHost, ssl: false });
  return {
    db,
    async close() {
      await db.terminate();
      await deleteApp(app);
    },
  };
}
