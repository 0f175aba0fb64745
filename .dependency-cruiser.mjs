// @ts-check
/**
 * Import boundaries of buildfleet (docs/architecture.md, "Rooms and doors"), checked by
 * `npm run deps:check` (part of `npm run check`). Type-only imports count: a cycle through
 * `import type` is still a cycle of meaning, and a service reading another's types is
 * coupled to it.
 */
const SERVICES = '(scheduler|runner|collector|info-service)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-imports-no-service',
      severity: 'error',
      comment: 'shared/ is below every service and the CLI: it imports none of them.',
      from: { path: '^shared/' },
      to: { path: `^(${SERVICES.slice(1, -1)}|cli)/` },
    },
    {
      name: 'services-never-import-each-other',
      severity: 'error',
      comment: 'A service imports shared/ and itself only; what two services share belongs in shared/.',
      from: { path: `^${SERVICES}/` },
      to: { path: `^(${SERVICES.slice(1, -1)}|cli)/`, pathNot: '^$1/' },
    },
    {
      name: 'cli-imports-services-only-to-start-them',
      severity: 'error',
      comment:
        "Only the CLI's start-up code (cli/up/, cli/commands/<service>.ts) may import a service; other commands may read a service's config schema (the format of its config file), nothing else of it.",
      from: { path: '^cli/', pathNot: ['^cli/up/', `^cli/commands/${SERVICES}\\.ts$`] },
      to: { path: `^${SERVICES}/`, pathNot: `^${SERVICES}/config\\.ts$` },
    },
    {
      name: 'embedded-bus-without-kafkajs',
      severity: 'error',
      comment: 'The embedded bus runs without Kafka: not even its types.',
      from: { path: '^shared/bus/embedded/' },
      to: { path: 'node_modules/kafkajs/' },
    },
    {
      name: 'product-imports-no-tests',
      severity: 'error',
      comment: 'The product never imports test code.',
      from: { path: `^(${SERVICES.slice(1, -1)}|cli|shared|infra|bin)/` },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|docs|var|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
