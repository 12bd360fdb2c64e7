/** The hexagon's dependency rule, checked in CI (npm run depcheck). */
module.exports = {
  forbidden: [
    {
      name: "no-domain-to-outside",
      comment: "The domain imports nothing outside src/domain: no adapter, no app code, no package.",
      severity: "error",
      from: { path: "^src/domain" },
      to: { pathNot: "^src/domain" },
    },
    {
      name: "adapters-only-from-composition-root",
      comment: "Only the composition root (src/app/composition) picks adapters.",
      severity: "error",
      from: { path: "^src/app", pathNot: "^src/app/composition" },
      to: { path: "^src/adapters" },
    },
    {
      name: "adapters-not-to-app",
      comment: "Adapters implement domain ports; they never reach into use cases or HTTP.",
      severity: "error",
      from: { path: "^src/adapters" },
      to: { path: "^src/app" },
    },
    {
      name: "adapters-independent",
      comment: "One adapter folder never imports another technology's folder.",
      severity: "error",
      from: { path: "^src/adapters/([^/]+)/([^/]+)/" },
      to: {
        path: "^src/adapters/",
        pathNot: [
          "^src/adapters/$1/$2/",
          "^src/adapters/$1/shared/",
          "^src/adapters/$1/[^/]+\\.ts$",
          "^src/adapters/shared/",
        ],
      },
    },
    {
      name: "product-never-imports-tests",
      comment: "Test doubles (simulator, fake Twilio) stay out of the product.",
      severity: "error",
      from: { path: "^src" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
