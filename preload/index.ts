// The preload exposes exactly one object, window.keydesk, built from the contract. Nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge.ts';
import { IPC_EVENT, IPC_INVOKE } from './ipc-names.ts';
import type { EventName } from './contract.ts';

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
ipcRenderer.on(IPC_EVENT, (_event, name: EventName, payload: unknown) => {
  for (const fn of listeners.get(name) ?? []) fn(payload);
});

contextBridge.exposeInMainWorld(
  'keydesk',
  createBridge(
    (channel, input) => ipcRenderer.invoke(IPC_INVOKE, channel, input),
    (event, fn) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      return () => void set.delete(fn);
    }
  )
);
