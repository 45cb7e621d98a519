// The demo's datanets: a few recipe passages (text) and labeled product
// reviews (json records), written for the demo, split between two contributors.
export const RECIPES: [contributor: 0 | 1, text: string][] = [
  [0, "To make fluffy pancakes, whisk two eggs with a cup of milk, then fold in a cup of flour and a spoon of baking powder. Rest the batter for ten minutes before frying small ladles in a buttered pan."],
  [0, "A quick tomato sauce starts with olive oil and sliced garlic warmed gently, then crushed tomatoes simmered for twenty minutes with a pinch of salt and torn basil at the end."],
  [1, "For crisp roast potatoes, parboil the pieces for eight minutes, shake them in the colander to rough the edges, and roast them in hot oil at two hundred degrees until golden."],
  [1, "Bread dough needs time: knead flour, water, salt and yeast for ten minutes, let it rise until doubled, shape it, and bake it in a very hot oven with a tray of water for steam."],
];

export const REVIEWS: [contributor: 0 | 1, text: string, label: "positive" | "negative"][] = [
  [0, "great battery life and a bright screen, very happy with it", "positive"],
  [0, "works perfectly, fast delivery and excellent build quality", "positive"],
  [0, "the sound is clear and the battery lasts all day, love it", "positive"],
  [0, "excellent value, setup was easy and it works great", "positive"],
  [1, "stopped working after a week, very disappointed", "negative"],
  [1, "the screen cracked on arrival and support never answered", "negative"],
  [1, "battery dies in an hour, terrible product, avoid", "negative"],
  [1, "cheap plastic, broke quickly, waste of money", "negative"],
  [0, "happy with the purchase, the screen is sharp and bright", "positive"],
  [1, "poor quality, the charger failed and it never worked again", "negative"],
];
