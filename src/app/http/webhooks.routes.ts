import { Hono } from "hono";
import { z } from "zod";
import { DomainError } from "../../domain/errors.ts";
import { WebhookDeliveryStatuses } from "../../domain/webhook-delivery.ts";
import type { WebhookDeliveries } from "../webhooks/webhook-deliveries.ts";
import { describeIssues, fieldIssues } from "./issues.ts";

/** Where the delivery routes are mounted. */
export const WEBHOOK_DELIVERIES_PATH = "/webhooks/deliveries";

const LIMIT_MESSAGE = "must be an integer from 1 to 100";

export const listDeliveriesQuery = z.strictObject({
  status: z
    .enum(WebhookDeliveryStatuses, { message: `must be one of ${WebhookDeliveryStatuses.join(", ")}` })
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, LIMIT_MESSAGE)
    .transform(Number)
    .pipe(z.number().int().min(1, LIMIT_MESSAGE).max(100, LIMIT_MESSAGE))
    .optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "must be a cursor returned by a previous page")
    .optional(),
});

/** Outbound webhook deliveries: list (`?status=failed` shows the parked ones), inspect, replay. */
export function webhooksRoutes(deps: { deliveries: WebhookDeliveries }): Hono {
  const routes = new Hono();

  routes.get("/", async (c) => {
    const query = listDeliveriesQuery.safeParse(c.req.query());
    if (!query.success) {
      const issues = fieldIssues(query.error, "query");
      throw new DomainError("REQUEST.INVALID", describeIssues(issues), issues);
    }
    const { status, limit, cursor } = query.data;
    const page = await deps.deliveries.list({
      limit: limit ?? 50,
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    return c.json({ items: page.items, nextCursor: page.nextCursor });
  });

  routes.get("/:id", async (c) => c.json(await deps.deliveries.get(c.req.param("id"))));

  routes.post("/:id/retry", async (c) => c.json(await deps.deliveries.retry(c.req.param("id")), 202));

  return routes;
}
