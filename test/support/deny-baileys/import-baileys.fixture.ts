// Proves the deny-baileys hooks work with tsx in the loader chain: loading
// the Baileys adapter the way the composition root does must be refused.
await import("../../../src/adapters/messaging/baileys/addresses.ts");
process.stdout.write("baileys loaded\n");
