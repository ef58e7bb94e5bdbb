// The preload exposes exactly one object, window.keydesk, built from the contract. Nothing else.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('keydesk', Object.freeze({}));
