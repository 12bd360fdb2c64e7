import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SqliteEventLog } from "../../adapters/event-log/sqlite/sqlite.event-log.ts";
import { Clock } from "../../domain/ports/clock.port.ts";
import { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import { EventLog } from "../../domain/ports/event-log.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import type { Config } from "../config/config.schema.ts";
import { EventRecorder } from "../events/event-recorder.ts";
import { logAvailability } from "../store-outage.ts";
import type { EventsRoutesDeps } from "../http/events.routes.ts";
import type { Resolve } from "./di.ts";
import { singleton } from "./di.ts";

/** What may wait for one slow `GET /events` client before it is dropped. */
const MAX_PENDING_EVENTS = 1_000;
const MAX_PENDING_BYTES = 1_048_576;

/**
 * The event stream: the log in DATA_DIR/events.db and the recorder, which
 * subscribes to the domain events when it is built (so the first session
 * events of the providers are recorded too).
 */
export function registerEventStream(container: DependencyContainer, config: Config, logger: Logger): void {
  container.register(
    EventLog,
    singleton(
      () =>
        new SqliteEventLog({
          path: join(config.DATA_DIR, "events.db"),
          synchronous: config.SQLITE_SYNCHRONOUS,
          onAvailability: logAvailability(logger, "event log"),
        }),
    ),
  );
  container.register(
    EventRecorder,
    singleton((get) => {
      const recorder = new EventRecorder(get(EventLog), get(Clock), logger.child({ component: "events" }), {
        retentionHours: config.EVENTS_RETENTION_HOURS,
        pruneIntervalMs: 3_600_000,
      });
      recorder.attach(get(DomainEvents));
      return recorder;
    }),
  );
}

/** What `GET /events` needs. */
export function eventsRouteDeps(get: Resolve, config: Config): EventsRoutesDeps {
  const recorder = get(EventRecorder);
  return {
    log: recorder.log,
    live: recorder,
    heartbeatMs: config.EVENTS_HEARTBEAT_MS,
    maxPendingEvents: MAX_PENDING_EVENTS,
    maxPendingBytes: MAX_PENDING_BYTES,
  };
}
