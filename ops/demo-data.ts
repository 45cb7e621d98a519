// The demo's datanets: recipe passages (text; the demo fine-tunes an adapter
// on them) and labeled product reviews (json records), written for the demo,
// split between two contributors.
export const RECIPES: [contributor: 0 | 1, text: string][] = [
  [0, "To make fluffy pancakes, whisk two eggs with a cup of milk, then fold in a cup of flour and a spoon of baking powder. Rest the batter for ten minutes before frying small ladles in a buttered pan."],
  [0, "A quick tomato sauce starts with olive oil and sliced garlic warmed gently, then crushed tomatoes simmered for twenty minutes with a pinch of salt and torn basil at the end."],
  [1, "For crisp roast potatoes, parboil the pieces for eight minutes, shake them in the colander to rough the edges, and roast them in hot oil at two hundred degrees until golden."],
  [1, "Bread dough needs time: knead flour, water, salt and yeast for ten minutes, let it rise until doubled, shape it, and bake it in a very hot oven with a tray of water for steam."],
  [0, "For a simple omelette, beat three eggs with a pinch of salt, pour them into a hot buttered pan, stir gently until just set, then fold the omelette in half and slide it onto a warm plate."],
  [1, "A green salad wants a sharp dressing: whisk three spoons of olive oil with one spoon of vinegar, a little mustard and salt, and toss the leaves just before serving so they stay crisp."],
  [0, "To cook rice that does not stick, rinse it until the water runs clear, simmer one cup of rice in one and a half cups of water with the lid on for twelve minutes, then rest it for five minutes."],
  [1, "A quick vegetable soup starts with onion, carrot and celery softened in butter, then diced potato and stock simmered for twenty minutes, seasoned with salt, pepper and a handful of parsley."],
  [0, "For tender roast chicken, rub the bird with butter and salt, roast it at two hundred degrees for an hour, and let it rest for ten minutes before carving so the juices settle."],
  [1, "Porridge is done in minutes: simmer a cup of oats in two cups of milk with a pinch of salt, stirring often, and finish it with honey, sliced banana or a spoon of cream."],
  [0, "To make a white sauce, melt butter in a pan, stir in the same weight of flour and cook it for a minute, then whisk in warm milk a little at a time until the sauce is smooth and thick."],
  [1, "Pasta needs plenty of water: bring a large pot to a rolling boil, salt it well, cook the pasta until just tender, and keep a cup of the cooking water to loosen the sauce."],
  [0, "Crisp biscuits come from cold butter: rub butter into flour and sugar until it looks like sand, press the dough together, roll it thin, cut rounds and bake them until pale gold."],
  [1, "For a quick stir fry, cut the vegetables small, heat the pan until it smokes, fry garlic and ginger for a moment, then the vegetables for three minutes with a splash of soy sauce."],
  [0, "Lemon rice pudding takes patience: simmer rice in milk with sugar and a strip of lemon peel on a low heat for forty minutes, stirring often, until the rice is soft and creamy."],
  [1, "To poach an egg, bring water to a gentle simmer with a dash of vinegar, crack the egg into a cup, slide it into the water and cook it for three minutes until the white is set."],
  [0, "A fruit crumble is easy: slice apples into a dish with sugar and cinnamon, rub butter into flour and oats for the topping, scatter it over the fruit and bake until golden and bubbling."],
  [1, "For creamy mashed potatoes, boil peeled potatoes in salted water until soft, drain them well, mash them with hot milk and plenty of butter, and season with salt and white pepper."],
  [0, "Pancake batter keeps well: whisk flour, eggs and milk until smooth, rest it in the cool for an hour, and fry thin pancakes in a hot pan with a little butter, turning each one once."],
  [1, "To roast vegetables, cut peppers, onions and courgettes into large pieces, toss them in olive oil with salt and thyme, and roast them on a wide tray in a hot oven for thirty minutes."],
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
