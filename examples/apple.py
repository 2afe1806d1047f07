"""The textbook's first computational graph: buying apples and oranges with tax.

    python examples/apple.py
"""

import revgraph as rg

g = rg.Graph("buy_apple_orange")
apple, apple_num, orange, orange_num, tax = (g.input(n) for n in ["apple", "apple_num", "orange", "orange_num", "tax"])
price = (apple * apple_num + orange * orange_num) * tax

step = rg.compile(price, wrt=[apple, apple_num, orange, orange_num, tax])
print("price:", step.forward(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1))   # 715.0000000000001
print("gradients:", [round(float(d), 10) for d in step.backward()])                          # [2.2, 110.0, 3.3, 165.0, 650.0]
print()
print(step.source)   # the generated forward and backward code
