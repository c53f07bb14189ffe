/**
 * Connecting by keyboard (React Flow has no keyboard way to make an edge).
 *
 * Enter on a focused port opens this list next to it: every port on another node that the
 * port may be linked to, named by node and socket ("input shape of Shell 'shell' (Solid)").
 * The editor builds the list with the same check a mouse connection goes through, so only
 * compatible ports are offered. Typing filters it; ↑/↓ choose, Enter connects, Esc leaves
 * (focus goes back to the port). Tab leaves too: the list closes when focus moves out of it,
 * so it never traps focus.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';

export interface ConnectCandidate {
  /** unique within the list */
  key: string;
  /** the accessible name: "input shape of Shell 'shell' (Solid)" */
  name: string;
  /** what else connecting does, e.g. "replaces the link from box.shape" */
  note?: string;
  /** words the filter matches (node id, label, type, socket) */
  search: string;
}

export function ConnectMenu<T extends ConnectCandidate>({
  title,
  candidates,
  empty,
  position,
  onPick,
  onClose
}: {
  /** the port the link starts from, by name */
  title: string;
  candidates: T[];
  /** what to say when nothing is compatible */
  empty: string;
  /** where to show the list, in px inside the editor */
  position: { left: number; top: number };
  onPick: (candidate: T) => void;
  /** `restoreFocus`: Esc (back to the port); false when focus moved elsewhere on its own */
  onClose: (restoreFocus: boolean) => void;
}) {
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const listId = `${id}-list`;
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return candidates.filter(c => words.every(w => c.search.includes(w)));
  }, [candidates, query]);
  const current = Math.min(index, shown.length - 1);

  useEffect(() => {
    input.current?.focus();
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    let handled = true;
    if (event.key === 'ArrowDown') {
      setIndex(Math.min(shown.length - 1, current + 1));
    } else if (event.key === 'ArrowUp') {
      setIndex(Math.max(0, current - 1));
    } else if (event.key === 'Home' && shown.length) {
      setIndex(0);
    } else if (event.key === 'End' && shown.length) {
      setIndex(shown.length - 1);
    } else if (event.key === 'Enter') {
      if (current >= 0) {
        onPick(shown[current]);
      }
    } else if (event.key === 'Escape') {
      onClose(true);
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
    // keys typed here are the list's, never the editor's or the notebook's
    event.stopPropagation();
  };

  return (
    <div
      className="bfl-connect nodrag nowheel"
      role="dialog"
      aria-label={`Connect ${title}`}
      style={{ left: position.left, top: position.top }}
      onBlur={event => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) {
          onClose(false);
        }
      }}
    >
      <div className="bfl-connect__title" aria-hidden="true">
        Connect {title} to…
      </div>
      <input
        ref={input}
        className="bfl-connect__filter"
        role="combobox"
        aria-label="Filter by node or socket"
        aria-expanded="true"
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={current >= 0 ? `${listId}-${current}` : undefined}
        placeholder="Filter by node or socket"
        value={query}
        onChange={event => {
          setQuery(event.target.value);
          setIndex(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul className="bfl-connect__list" role="listbox" id={listId} aria-label="Compatible ports">
        {shown.map((c, i) => (
          <li
            key={c.key}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === current}
            aria-label={c.note ? `${c.name}, ${c.note}` : c.name}
            className={`bfl-connect__option${i === current ? ' bfl-connect__option--active' : ''}`}
            // keep focus in the filter: a click picks without blurring the list first
            onMouseDown={event => event.preventDefault()}
            onClick={() => onPick(c)}
          >
            <span>{c.name}</span>
            {c.note ? <span className="bfl-connect__note">{c.note}</span> : null}
          </li>
        ))}
      </ul>
      {shown.length === 0 ? (
        <div className="bfl-connect__empty" role="status">
          {candidates.length ? `No compatible port matches “${query}”.` : empty}
        </div>
      ) : null}
      <div className="bfl-connect__hint" aria-hidden="true">
        ↑↓ choose · Enter connect · Esc cancel
      </div>
    </div>
  );
}
