/**
 * The node palette: the catalogue grouped by category, filtered as you type. Enter adds the
 * first match at the centre of the view; items can also be clicked or dragged onto the canvas.
 */
import { useId, useMemo, useState, type KeyboardEvent, type RefObject } from 'react';
import type { NodeSpecJSON } from '../protocol';
import { categoryColor } from './ports';

export const DRAG_MIME = 'application/x-brepflow-node-type';

function matches(spec: NodeSpecJSON, words: string[]): boolean {
  const text = `${spec.type} ${spec.label} ${spec.description} ${spec.category}`.toLowerCase();
  return words.every(w => text.includes(w));
}

export function Palette({
  catalogue,
  onAdd,
  searchRef,
  onClose
}: {
  catalogue: NodeSpecJSON[];
  onAdd: (type: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const listId = useId();
  const filtered = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return catalogue.filter(s => matches(s, words)).sort((a, b) => a.type.localeCompare(b.type));
  }, [catalogue, query]);
  const groups = useMemo(() => {
    const map = new Map<string, NodeSpecJSON[]>();
    for (const spec of filtered) {
      const list = map.get(spec.category) ?? [];
      list.push(spec);
      map.set(spec.category, list);
    }
    return Array.from(map.entries());
  }, [filtered]);
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    event.stopPropagation();
    if (event.key === 'Enter' && filtered.length) {
      onAdd(filtered[0].type);
    } else if (event.key === 'Escape') {
      if (query) {
        setQuery('');
      } else {
        onClose();
      }
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      const first = (event.target as HTMLElement).closest('.bfl-palette')?.querySelector<HTMLElement>('.bfl-palette__item');
      first?.focus();
    }
  };
  return (
    <aside className="bfl-palette" aria-label="Node palette">
      <div className="bfl-palette__search">
        <input
          ref={searchRef}
          type="search"
          placeholder={`Search ${catalogue.length} nodes…`}
          aria-label="Search nodes"
          value={query}
          onChange={event => setQuery(event.target.value)}
          onKeyDown={onKeyDown}
        />
      </div>
      <div className="bfl-palette__list">
        {groups.map(([category, specs]) => (
          <div key={category} className="bfl-palette__group" role="group" aria-labelledby={`${listId}-${category}`}>
            <div
              className="bfl-palette__category"
              id={`${listId}-${category}`}
              style={{ borderColor: categoryColor(category) }}
            >
              {category}
            </div>
            {specs.map(spec => (
              <button
                type="button"
                key={spec.type}
                className="bfl-palette__item"
                title={`${spec.type}\n${spec.description}`}
                aria-label={`Add ${spec.type}`}
                draggable
                data-node-type={spec.type}
                onDragStart={event => {
                  event.dataTransfer.setData(DRAG_MIME, spec.type);
                  event.dataTransfer.effectAllowed = 'copy';
                }}
                onClick={() => onAdd(spec.type)}
                onKeyDown={event => {
                  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
                    event.preventDefault();
                    const items = Array.from(
                      (event.currentTarget.closest('.bfl-palette') as HTMLElement).querySelectorAll<HTMLElement>(
                        '.bfl-palette__item'
                      )
                    );
                    const i = items.indexOf(event.currentTarget);
                    items[Math.max(0, Math.min(items.length - 1, i + (event.key === 'ArrowDown' ? 1 : -1)))]?.focus();
                  }
                }}
              >
                <span className="bfl-palette__label">{spec.label}</span>
                <span className="bfl-palette__desc">{spec.description}</span>
              </button>
            ))}
          </div>
        ))}
        {filtered.length === 0 ? <div className="bfl-empty">No node matches “{query}”.</div> : null}
      </div>
    </aside>
  );
}
