export {
  createLifecycle,
  ShutdownPhases,
  type Lifecycle,
  type LifecycleOptions,
  type LifecycleState,
  type ShutdownPhase,
  type ShutdownStep,
  type SignalSource,
} from './lifecycle.ts';
export { instanceIdOf } from './instance-id.ts';
export { stopInOrder, type RunningService, type ServiceDeps } from './service.ts';
export { runService, type ServiceContext, type ServiceStart } from './run-service.ts';
