/** What node components may ask the editor to do (kept in a context, not in node data). */
import { createContext, useContext } from 'react';
import type { JSONValue } from '../protocol';

export interface EditorActions {
  setParam(nodeId: string, name: string, value: JSONValue): void;
  togglePreview(nodeId: string): void;
  /** shown in the viewer right now? */
  isShown(nodeId: string): boolean;
  /** open the keyboard connect list for a port (`anchor`: the focused port, focus returns there) */
  startConnect(nodeId: string, socket: string, kind: 'in' | 'out', anchor: HTMLElement): void;
}

export const EditorActionsContext = createContext<EditorActions | null>(null);

export function useEditorActions(): EditorActions {
  const actions = useContext(EditorActionsContext);
  if (!actions) {
    throw new Error('node components need an EditorActionsContext');
  }
  return actions;
}

/** The graph's units (changes rarely: kept apart so nodes do not re-render on every edit). */
export const UnitsContext = createContext<string>('mm');
