// A line chart of recent prices on a <canvas>, with no library: scale the
// values into the box, draw a grid, the line and the latest point.

const kMaxPoints = 60;

export class PriceChart {
    constructor(canvas) {
        this.canvas = canvas;
        this.prices = [];
        // Redraw when the layout changes width (phone rotation, window resize).
        new ResizeObserver(() => this.draw()).observe(canvas);
    }

    add(price) {
        this.prices.push(price);
        if (this.prices.length > kMaxPoints) this.prices.shift();
        this.draw();
    }

    clear() {
        this.prices = [];
        this.draw();
    }

    draw() {
        const { canvas, prices } = this;
        const ratio = window.devicePixelRatio || 1;
        const width = canvas.clientWidth;
        const height = canvas.clientHeight;
        if (width === 0 || height === 0) return;
        // Size the bitmap in device pixels so lines stay sharp on dense screens,
        // then draw in CSS pixels.
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
        const context = canvas.getContext('2d');
        context.setTransform(ratio, 0, 0, ratio, 0, 0);
        context.clearRect(0, 0, width, height);

        const colors = getComputedStyle(canvas);
        const ink = colors.getPropertyValue('--chart-line').trim() || '#2563eb';
        const grid = colors.getPropertyValue('--chart-grid').trim() || '#8884';
        const text = colors.getPropertyValue('--chart-text').trim() || '#666';
        context.font = '12px system-ui, sans-serif';

        canvas.dataset.points = prices.length;
        if (prices.length === 0) {
            context.fillStyle = text;
            context.fillText('waiting for stock events…', 12, height / 2);
            canvas.setAttribute('aria-label', 'Stock price chart: no prices yet');
            return;
        }

        // Leave room for labels on the left; pad the range so a flat line shows.
        const left = 56, right = 12, top = 12, bottom = 12;
        const low = Math.min(...prices), high = Math.max(...prices);
        const pad = Math.max((high - low) * 0.1, 0.5);
        const min = low - pad, max = high + pad;
        // The first points spread over a short axis that lengthens up to
        // kMaxPoints; after that the oldest point scrolls off the left.
        const slots = Math.max(prices.length, 20) - 1;
        const x = (i) => left + (i * (width - left - right)) / slots;
        const y = (price) => top + ((max - price) * (height - top - bottom)) / (max - min);

        context.strokeStyle = grid;
        context.fillStyle = text;
        context.lineWidth = 1;
        context.textBaseline = 'middle';
        for (const price of [high, (high + low) / 2, low]) {
            context.beginPath();
            context.moveTo(left, y(price));
            context.lineTo(width - right, y(price));
            context.stroke();
            context.fillText(price.toFixed(2), 4, y(price));
        }

        context.strokeStyle = ink;
        context.lineWidth = 2;
        context.lineJoin = 'round';
        context.beginPath();
        prices.forEach((price, i) => (i === 0 ? context.moveTo(x(i), y(price)) : context.lineTo(x(i), y(price))));
        context.stroke();

        const last = prices.length - 1;
        context.fillStyle = ink;
        context.beginPath();
        context.arc(x(last), y(prices[last]), 4, 0, 2 * Math.PI);
        context.fill();

        canvas.setAttribute('aria-label',
            `Stock price chart: ${prices.length} prices from ${low.toFixed(2)} to ${high.toFixed(2)}, ` +
            `latest ${prices[last].toFixed(2)}`);
    }
}
