import { Timestamp, type CollectionReference } from "firebase-admin/firestore";
import { systemClock, type Clock } from "../../../domain/ports/clock.port.ts";
import { liveInstanceIds, type InstanceRegistry } from "../../../domain/ports/instance-registry.port.ts";
import { openFirestoreClient, type FirestoreClient } from "../../shared/firestore/firestore-client.ts";

export interface FirestoreInstanceRegistryOptions {
  readonly projectId: string;
  readonly emulatorHost?: string;
  readonly instanceId: string;
  /** A heartbeat keeps the instance live this long. */
  readonly ttlMs: number;
  /** Collection of the instance documents; default `instances`. */
  readonly collection?: string;
  readonly clock?: Clock;
}

/**
 * The instance registry in Firestore: `instances/{id}` holds `{id,
 * expiresAt, startedAt}`, rewritten by each heartbeat and deleted by a
 * graceful leave. A crashed instance's document stays until it is expired;
 * readers ignore it then.
 */
export class FirestoreInstanceRegistry implements InstanceRegistry {
  readonly instanceId: string;
  private readonly ttlMs: number;
  private readonly client: FirestoreClient;
  private readonly instancesRef: CollectionReference;
  private readonly clock: Clock;
  private readonly startedAt: Date;

  constructor(options: FirestoreInstanceRegistryOptions) {
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs;
    this.client = openFirestoreClient({
      projectId: options.projectId,
      purpose: "instance-registry",
      ...(options.emulatorHost !== undefined ? { emulatorHost: options.emulatorHost } : {}),
    });
    this.instancesRef = this.client.db.collection(options.collection ?? "instances");
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
  }

  async heartbeat(): Promise<void> {
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlMs);
    await this.instancesRef.doc(this.instanceId).set({
      id: this.instanceId,
      expiresAt: Timestamp.fromDate(expiresAt),
      startedAt: Timestamp.fromDate(this.startedAt),
    });
  }

  async live(): Promise<string[]> {
    const records = (await this.instancesRef.get()).docs.flatMap((snap) => {
      const expiresAt: unknown = snap.get("expiresAt");
      return expiresAt instanceof Timestamp ? [{ id: snap.id, expiresAt: expiresAt.toDate() }] : [];
    });
    return liveInstanceIds(records, this.clock.now());
  }

  async leave(): Promise<void> {
    await this.instancesRef.doc(this.instanceId).delete();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
