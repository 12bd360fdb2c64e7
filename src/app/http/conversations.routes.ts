import { Hono } from "hono";
import { z } from "zod";
import { PresenceStates } from "../../domain/ports/messaging-provider.port.ts";
import { toMessageView } from "../message-view.ts";
import type { ConversationActions } from "../use-cases/conversation-actions.ts";
import { fieldIssues, invalidRequest } from "./issues.ts";
import { readJsonBody } from "./request-body.ts";

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const reactionBody = z.strictObject({
  emoji: z.string().max(32).describe("One emoji; empty removes our reaction"),
});
const editBody = z.strictObject({ text: z.string().min(1).max(4096) });
const presenceBody = z.strictObject({
  to: z.string().min(1).max(64),
  state: z.enum(PresenceStates),
});
const contactQuery = z.strictObject({
  session: z.string().regex(SESSION_ID, "must be a session id").optional(),
});

export interface ConversationRoutesDeps {
  readonly actions: ConversationActions;
  readonly bodyLimitBytes: number;
  /** The session a contact lookup goes through when the query names none (DEFAULT_SESSION). */
  readonly defaultSession: string;
}

async function parse<T>(schema: z.ZodType<T>, value: unknown, prefix?: string): Promise<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(fieldIssues(parsed.error, prefix));
  return parsed.data;
}

/** Reactions, edits, deletes and read marks on `/messages/{id}`. */
export function messageActionsRoutes(deps: ConversationRoutesDeps): Hono {
  const routes = new Hono();
  routes.post("/:id/reactions", async (c) => {
    const { emoji } = await parse(reactionBody, await readJsonBody(c, deps.bodyLimitBytes));
    const reaction = await deps.actions.react(c.req.param("id"), emoji);
    c.header("location", `/messages/${encodeURIComponent(reaction.id)}`);
    return c.json(toMessageView(reaction), 202);
  });
  routes.patch("/:id", async (c) => {
    const { text } = await parse(editBody, await readJsonBody(c, deps.bodyLimitBytes));
    return c.json(toMessageView(await deps.actions.edit(c.req.param("id"), text)), 202);
  });
  routes.delete("/:id", async (c) => c.json(toMessageView(await deps.actions.delete(c.req.param("id"))), 202));
  routes.post("/:id/read", async (c) => {
    await deps.actions.markRead(c.req.param("id"));
    return c.body(null, 204);
  });
  return routes;
}

/** `POST /sessions/{id}/presence`. */
export function presenceRoutes(deps: ConversationRoutesDeps): Hono {
  const routes = new Hono();
  routes.post("/:id/presence", async (c) => {
    const { to, state } = await parse(presenceBody, await readJsonBody(c, deps.bodyLimitBytes));
    await deps.actions.presence(c.req.param("id"), to, state);
    return c.body(null, 204);
  });
  return routes;
}

/** `GET /contacts/{address}`: whether a number is on WhatsApp, and its LID. */
export function contactsRoutes(deps: ConversationRoutesDeps): Hono {
  const routes = new Hono();
  routes.get("/:address", async (c) => {
    const { session } = await parse(contactQuery, c.req.query(), "query");
    return c.json(await deps.actions.lookup(c.req.param("address"), session ?? deps.defaultSession));
  });
  return routes;
}
