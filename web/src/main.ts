import './styles.css';
import './app/ombud-app.ts';
