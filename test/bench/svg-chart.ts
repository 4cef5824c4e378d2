/** Minimal SVG line charts for benchmark results: one series per arm, x on a log2 scale when asked. */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function lineChart(options: { title: string; xLabel: string; yLabel: string; series: readonly Series[]; logX?: boolean }): string {
  const width = 640;
  const height = 400;
  const margin = { left: 70, right: 160, top: 40, bottom: 50 };
  const xs = options.series.flatMap((series) => series.points.map((point) => point.x));
  const ys = options.series.flatMap((series) => series.points.map((point) => point.y));
  const fx = (x: number): number => (options.logX ? Math.log2(x) : x);
  const xMin = Math.min(...xs.map(fx));
  const xMax = Math.max(...xs.map(fx));
  const yMax = Math.max(...ys, 1) * 1.1;
  const px = (x: number): number => margin.left + ((fx(x) - xMin) / Math.max(xMax - xMin, 1e-9)) * (width - margin.left - margin.right);
  const py = (y: number): number => height - margin.bottom - (y / yMax) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escape(options.title)}</text>`,
    `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<text x="${(width - margin.right + margin.left) / 2}" y="${height - 12}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text x="16" y="${height / 2}" text-anchor="middle" transform="rotate(-90 16 ${height / 2})">${escape(options.yLabel)}</text>`,
  ];
  for (let tick = 0; tick <= 4; tick += 1) {
    const y = (yMax / 4) * tick;
    parts.push(`<text x="${margin.left - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 100 ? y.toFixed(0) : y.toFixed(1)}</text>`);
    parts.push(`<line x1="${margin.left}" y1="${py(y)}" x2="${width - margin.right}" y2="${py(y)}" stroke="#eee"/>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) parts.push(`<text x="${px(x)}" y="${height - margin.bottom + 16}" text-anchor="middle">${x}</text>`);
  options.series.forEach((series, index) => {
    const color = palette[index % palette.length] ?? 'black';
    const path = series.points.map((point, i) => `${i === 0 ? 'M' : 'L'}${px(point.x).toFixed(1)},${py(point.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const point of series.points) parts.push(`<circle cx="${px(point.x).toFixed(1)}" cy="${py(point.y).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${width - margin.right + 12}" y="${margin.top + index * 20}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${width - margin.right + 30}" y="${margin.top + index * 20 + 10}">${escape(series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
