import { Hono } from "hono";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import { toMessageView } from "../message-view.ts";
import { getMessage, listMessages } from "../use-cases/read-messages.ts";
import type { SendMessage } from "../use-cases/send-message.ts";
import { fieldIssues, invalidRequest } from "./issues.ts";
import { readJsonBody } from "./request-body.ts";
import { idempotencyKeyHeader, listMessagesQuery, sendMessageBody } from "./schemas.ts";

export function messagesRoutes(deps: { sendMessage: SendMessage; store: MessageStore; bodyLimitBytes: number }): Hono {
  const routes = new Hono();

  routes.post("/", async (c) => {
    const rawKey = c.req.header("idempotency-key");
    let idempotencyKey: string | undefined;
    if (rawKey !== undefined) {
      const key = idempotencyKeyHeader.safeParse(rawKey);
      if (!key.success)
        throw invalidRequest(
          fieldIssues(key.error, "Idempotency-Key").map((i) => ({ ...i, field: "Idempotency-Key" })),
        );
      idempotencyKey = key.data;
    }
    const body = sendMessageBody.safeParse(await readJsonBody(c, deps.bodyLimitBytes));
    if (!body.success) throw invalidRequest(fieldIssues(body.error));
    const { message, created } = await deps.sendMessage.execute(body.data, idempotencyKey);
    c.header("location", `/messages/${encodeURIComponent(message.id)}`);
    if (!created) c.header("idempotent-replayed", "true");
    return c.json(toMessageView(message), 202);
  });

  routes.get("/", async (c) => {
    const query = listMessagesQuery.safeParse(c.req.query());
    if (!query.success) throw invalidRequest(fieldIssues(query.error, "query"));
    const { limit, cursor, direction, status, session } = query.data;
    const page = await listMessages(deps.store, {
      limit: limit ?? 50,
      ...(cursor ? { cursor } : {}),
      ...(direction ? { direction } : {}),
      ...(status ? { status } : {}),
      ...(session ? { session } : {}),
    });
    return c.json({ items: page.items.map(toMessageView), nextCursor: page.nextCursor });
  });

  routes.get("/:id", async (c) => c.json(toMessageView(await getMessage(deps.store, c.req.param("id")))));

  return routes;
}
