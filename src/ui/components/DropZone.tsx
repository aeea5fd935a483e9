import { useState, type ReactNode } from 'react';

/** A drop target that highlights while something is dragged over it and hands the drop's DataTransfer to `onDrop` when `enabled`. */
export function DropZone(props: { testId: string; small?: boolean; enabled: boolean; onDrop: (data: DataTransfer) => void; children: ReactNode }) {
  const [over, setOver] = useState(false);
  return (
    <div
      className={`drop-zone ${props.small ? 'small ' : ''}${over ? 'over' : ''}`}
      data-testid={props.testId}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (props.enabled) props.onDrop(e.dataTransfer);
      }}
    >
      {props.children}
    </div>
  );
}
