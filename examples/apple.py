"""The textbook's first computational graph: buying apples and oranges with tax.

    python examples/apple.py
"""

import revgraph as rg

g = rg.Graph("buy_apple_orange")
apple, apple_num, orange, orange_num, tax = (g.input(n) for n in ["apple", "apple_num", "orange", "orange_num", "tax"])
apple_price = rg.mul(apple, apple_num, name="apple_price")      # every rg.* op takes name=
orange_price = rg.mul(orange, orange_num, name="orange_price")
price = ((apple_price + orange_price) * tax).rename("price")    # or afterwards: t.rename(...), t.name = ...

step = rg.compile(price, wrt=[apple, apple_num, orange, orange_num, tax])
print(float(step.forward(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1)))
print([float(d) for d in step.backward()])                      # d price / d (apple, apple_num, ..., tax)
print()
print(step.source)   # the generated forward and backward code
