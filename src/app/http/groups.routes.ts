import { Hono, type Context } from "hono";
import { z } from "zod";
import type { GroupActions } from "../use-cases/group-actions.ts";
import { fieldIssues, invalidRequest } from "./issues.ts";
import { readJsonBody } from "./request-body.ts";

const member = z.string().min(1).max(64);
const members = z.array(member).min(1).max(256);
const createBody = z.strictObject({
  subject: z.string().min(1).max(100),
  participants: members,
});
const participantsBody = z
  .strictObject({
    add: members.optional(),
    remove: members.optional(),
    promote: members.optional(),
    demote: members.optional(),
  })
  .refine((b) => b.add || b.remove || b.promote || b.demote, { message: "give add, remove, promote or demote" });
const updateBody = z
  .strictObject({ subject: z.string().min(1).max(100).optional(), description: z.string().max(2048).optional() })
  .refine((b) => b.subject !== undefined || b.description !== undefined, { message: "give subject or description" });

async function parse<T>(schema: z.ZodType<T>, value: unknown): Promise<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(fieldIssues(parsed.error));
  return parsed.data;
}

/** `/sessions/{id}/groups...`: a session's WhatsApp groups. */
export function groupsRoutes(deps: { groups: GroupActions; bodyLimitBytes: number }): Hono {
  const routes = new Hono();
  const { groups } = deps;
  const body = (c: Context) => readJsonBody(c, deps.bodyLimitBytes);

  routes.get("/:id/groups", async (c) => c.json({ items: await groups.list(c.req.param("id")) }));
  routes.post("/:id/groups", async (c) => {
    const { subject, participants } = await parse(createBody, await body(c));
    const group = await groups.create(c.req.param("id"), subject, participants);
    c.header("location", `/sessions/${encodeURIComponent(c.req.param("id"))}/groups/${group.id}`);
    return c.json(group, 201);
  });
  routes.get("/:id/groups/:groupId", async (c) => c.json(await groups.get(c.req.param("id"), c.req.param("groupId"))));
  routes.patch("/:id/groups/:groupId", async (c) => {
    const change = await parse(updateBody, await body(c));
    return c.json(await groups.update(c.req.param("id"), c.req.param("groupId"), change));
  });
  routes.post("/:id/groups/:groupId/participants", async (c) => {
    const change = await parse(participantsBody, await body(c));
    return c.json(await groups.changeParticipants(c.req.param("id"), c.req.param("groupId"), change));
  });
  routes.post("/:id/groups/:groupId/leave", async (c) => {
    await groups.leave(c.req.param("id"), c.req.param("groupId"));
    return c.body(null, 204);
  });
  routes.get("/:id/groups/:groupId/invite-link", async (c) =>
    c.json({ link: await groups.inviteLink(c.req.param("id"), c.req.param("groupId")) }),
  );
  return routes;
}
