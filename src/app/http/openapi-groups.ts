import { GroupRoles } from "../../domain/group.ts";
import { bearer, idParam, json, problemResponse, ref } from "./openapi-parts.ts";

const groupIdParam = {
  name: "groupId",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^\\d{5,30}(-\\d{5,20})?$" },
  description: "The id part of <id>@g.us",
};
const members = { type: "array", items: { type: "string", example: "+40712345678" }, minItems: 1 };
const body = (properties: Record<string, unknown>, required: string[] = []) => ({
  required: true,
  content: { "application/json": { schema: { type: "object", required, properties } } },
});
const errors = {
  400: problemResponse("Invalid body or group id"),
  403: problemResponse("The account is not an admin of the group (GROUP.NOT_ADMIN)"),
  404: problemResponse("Unknown session or group (GROUP.NOT_FOUND)"),
};

export const groupSchemas = {
  Group: {
    type: "object",
    properties: {
      id: { type: "string" },
      address: { type: "string", example: "whatsapp:group:120363012345678901" },
      subject: { type: "string" },
      description: { type: ["string", "null"] },
      owner: { type: ["string", "null"] },
      createdAt: { type: ["string", "null"], format: "date-time" },
      participants: {
        type: "array",
        items: {
          type: "object",
          properties: {
            address: { type: "string" },
            lid: { type: ["string", "null"] },
            role: { type: "string", enum: GroupRoles },
          },
        },
      },
      ourRole: { type: ["string", "null"], enum: [...GroupRoles, null] },
    },
  },
};

/** `/sessions/{id}/groups...`. */
export const groupPaths = {
  "/sessions/{id}/groups": {
    get: {
      summary: "The WhatsApp groups the session's account is in",
      security: bearer,
      parameters: [idParam],
      responses: {
        200: json({ type: "object", properties: { items: { type: "array", items: ref("Group") } } }),
        404: errors[404],
      },
    },
    post: {
      summary: "Create a group, the session's account its owner",
      security: bearer,
      parameters: [idParam],
      requestBody: body({ subject: { type: "string", maxLength: 100 }, participants: members }, [
        "subject",
        "participants",
      ]),
      responses: { 201: json(ref("Group"), "Created"), ...errors },
    },
  },
  "/sessions/{id}/groups/{groupId}": {
    get: {
      summary: "One group",
      security: bearer,
      parameters: [idParam, groupIdParam],
      responses: { 200: json(ref("Group")), ...errors },
    },
    patch: {
      summary: "Change the subject and/or description",
      security: bearer,
      parameters: [idParam, groupIdParam],
      requestBody: body({ subject: { type: "string", maxLength: 100 }, description: { type: "string" } }),
      responses: { 200: json(ref("Group")), ...errors },
    },
  },
  "/sessions/{id}/groups/{groupId}/participants": {
    post: {
      summary: "Add, remove, promote or demote members (admins only)",
      security: bearer,
      parameters: [idParam, groupIdParam],
      requestBody: body({ add: members, remove: members, promote: members, demote: members }),
      responses: { 200: json(ref("Group"), "The group after the change"), ...errors },
    },
  },
  "/sessions/{id}/groups/{groupId}/leave": {
    post: {
      summary: "Leave the group",
      security: bearer,
      parameters: [idParam, groupIdParam],
      responses: { 204: { description: "Left" }, ...errors },
    },
  },
  "/sessions/{id}/groups/{groupId}/invite-link": {
    get: {
      summary: "The group's invite link (admins only)",
      security: bearer,
      parameters: [idParam, groupIdParam],
      responses: { 200: json({ type: "object", properties: { link: { type: "string" } } }), ...errors },
    },
  },
};
