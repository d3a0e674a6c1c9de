/** The audit pipe: the real device (koffi), the kernel model's, setup, the drain thread, the record source. */
export {
  AUDITPIPE,
  PRESELECT_MODE,
  DeviceError,
  isErrno,
  ioctlGetCounter,
  ioctlGetMask,
  ioctlGetU32,
  ioctlSetAuidMask,
  ioctlSetMask,
  ioctlSetU32,
  type AuditPipeDevice,
  type AuMask,
} from './device.js';
export {
  AUDITPIPE_PATH,
  A_GETCLASS,
  A_SETCLASS,
  KoffiPipeDevice,
  addKernelClassBit,
  getKernelEventClass,
  platformLibc,
  restoreKernelEventClasses,
  setKernelEventClass,
  type AuditPipeHandle,
  type ClassBitChange,
  type KoffiOpenOptions,
} from './koffi-device.js';
export { SimulatedPipeDevice, type SimulatedDeviceHandle, type SimulatedOpenOptions } from './simulated-device.js';
export { openDevice, type DeviceHandle, type DeviceSpec, type HandOffDevice } from './open-device.js';
export { configurePipe, type ClassExpr, type PipeBaseline, type PipePreselection, type PipeSetupOptions } from './setup.js';
export { delta32, DropLocator, RecordCounter, type PipeDrop } from './drop-locator.js';
export { openPipeDrain, type PipeCounters, type PipeDrain, type PipeDrainOptions, type RawPipeBatch } from './pipe-drain.js';
export {
  openPipeSource,
  type PipeCursor,
  type PipeItem,
  type PipeLossReport,
  type PipeMeta,
  type PipeSource,
  type PipeSourceOptions,
} from './pipe-source.js';
