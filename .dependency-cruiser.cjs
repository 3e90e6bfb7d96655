/**
 * The "may import" table of ../shared/ARCHITECTURE.md, enforced. Paths are
 * repository folders; workspace packages resolve to their sources through
 * the "signet-source" export condition.
 */
const ours = "^(proto|config|plugin-protocol|spiffe|plugin-sdk|host/common|host/server|host/agent|plugins/[^/]+)/";

/** folder -> folders it may import (besides itself). */
const allowed = {
  "proto": [],
  "config": [],
  "plugin-protocol": ["proto"],
  "spiffe": ["proto"],
  "plugin-sdk": ["proto", "spiffe", "config", "plugin-protocol"],
  "host/common": ["proto", "spiffe", "config", "plugin-protocol"],
  "host/server": ["proto", "spiffe", "config", "plugin-protocol", "host/common"],
  "host/agent": ["proto", "spiffe", "config", "plugin-protocol", "host/common"],
  "plugins/[^/]+": ["proto", "spiffe", "config", "plugin-sdk"],
};

const layerRules = Object.entries(allowed).map(([from, may]) => ({
  name: `layer:${from.replace("/[^/]+", "/*")}`,
  comment: `${from} may import only ${may.length ? may.join(", ") : "nothing of ours"} (ARCHITECTURE.md)`,
  severity: "error",
  from: { path: `^${from}/src/`, pathNot: "\\.test\\.ts$" },
  to: {
    path: ours,
    pathNot: [`^${from}/`, ...may.map((m) => `^${m}/`)],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "plugin-to-plugin",
      comment: "a plugin is a program that only knows the SDK and the wire",
      severity: "error",
      from: { path: "^plugins/([^/]+)/" },
      to: { path: "^plugins/", pathNot: "^plugins/$1/" },
    },
    {
      name: "no-deep-imports",
      comment: "import a package through its face (package exports), never its src/ or dist/ files",
      severity: "error",
      from: { path: ours },
      to: { path: "^(config|plugin-protocol|spiffe|plugin-sdk|host/common|host/server|host/agent)/(dist)/" },
    },
    {
      name: "no-circular",
      comment: "import cycles at run time (type-only imports erase and do not count)",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|gen|node_modules)/|^\\.tmp/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: "tsconfig.check.json" },
    enhancedResolveOptions: {
      conditionNames: ["signet-source", "import", "types", "default"],
      exportsFields: ["exports"],
      extensions: [".ts", ".js", ".mjs", ".json"],
      mainFields: ["main", "types"],
    },
  },
};
