export {
  loadConfig,
  loadConfigWithSources,
  type DeepPartial,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.ts';
export { envNameFor } from './env-overrides.ts';
export type { ConfigSource } from './origins.ts';
export type { ConfigIssue } from './validation-issues.ts';
export { redactConfig, isSecretKey, SECRET_KEY_NAMES, REDACTED } from './redact.ts';
export {
  BusConfig,
  SaslConfig,
  TlsConfig,
  BusSecurityConfig,
  type BusSecurity,
  StorageConfig,
  FsStorageConfig,
  S3StorageConfig,
  LogConfig,
  MetricsConfig,
} from './fragments.ts';
export { busSecurityIssues, tlsEnabled } from './bus-security.ts';
export { serviceConfig, type CommonSections, type ServiceConfigProperties } from './service-config.ts';
