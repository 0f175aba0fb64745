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
