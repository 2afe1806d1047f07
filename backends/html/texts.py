"""What the player says, in English and in Korean.

The local rules are the textbook's (Deep Learning from Scratch / 밑바닥부터 시작하는 딥러닝,
chapter 5), written for a reader of each language rather than translated word for word:
the Korean uses the book's own terms (계산 그래프, 순전파, 역전파, 연쇄법칙, 국소적 미분).
An op without a textbook sentence of its own gets the generic one, naming the op; the rule
itself is the op's VJP in the registry, and the generated code line shows what it computes.
"""

from __future__ import annotations

LANGUAGES = ("en", "ko")

UI = {
    "en": {
        "title": "Backward pass, step by step",
        "graph": "Forward graph with its values (the textbook figure); gradients appear in red as the backward pass reaches them",
        "code": "Generated backward code",
        "prev": "Previous", "next": "Next", "play": "Play", "pause": "Pause", "reset": "Reset",
        "step": "Step {i} of {n}",
        "start": "Press Next (→) to start the backward pass.",
        "node": "Node", "upstream": "Gradient arriving from upstream", "sends": "Gradients sent to each operand",
        "branches": "Gradients coming back along each use", "total": "Total gradient",
        "lines": "Code that computes them", "nocode": "no code of its own: the gradient is passed on unchanged",
        "rule": "Local rule", "keys": "Keys: ← previous · → next · space play/pause · Home reset",
        "full": "all values", "to": "to", "from": "from", "language": "Language",
        "done": "Done: every input has its gradient.",
    },
    "ko": {
        "title": "역전파를 한 단계씩 따라가기",
        "graph": "순전파 값이 적힌 계산 그래프(책의 그림과 같은 모양). 역전파가 도달한 곳마다 미분 값이 빨간색으로 나타납니다",
        "code": "생성된 역전파 코드",
        "prev": "이전", "next": "다음", "play": "재생", "pause": "멈춤", "reset": "처음으로",
        "step": "{n}단계 중 {i}단계",
        "start": "다음(→)을 누르면 역전파가 시작됩니다.",
        "node": "노드", "upstream": "상류에서 전해진 미분", "sends": "하류의 각 입력으로 보내는 미분",
        "branches": "각 갈래에서 돌아온 미분", "total": "모두 더한 미분",
        "lines": "이 미분을 계산하는 코드", "nocode": "별도의 코드 없이 미분을 그대로 흘려보냅니다",
        "rule": "국소적 미분", "keys": "단축키: ← 이전 · → 다음 · Space 재생/멈춤 · Home 처음으로",
        "full": "전체 값 보기", "to": "→", "from": "←", "language": "언어",
        "done": "완료: 모든 입력에 대한 미분을 구했습니다.",
    },
}

# The local rule at each kind of node: {node} is the node's name, {op} its op; g is the
# gradient arriving from upstream (∂L/∂z for a node computing z).
RULES = {
    "seed": {
        "en": "Start at the output {node}: ∂L/∂L = 1. This is the gradient the backward pass carries back.",
        "ko": "출력 {node}에서 ∂L/∂L = 1 로 시작합니다. 이 값이 역전파의 출발점이 되어 입력 쪽으로 전해집니다.",
    },
    "accumulate": {
        "en": "{node} was used more than once, so its gradient is the sum of the branches: each use sends one back.",
        "ko": "{node}은(는) 여러 번 쓰였으므로, 쓰인 곳마다 돌아온 미분을 모두 더한 값이 {node}의 미분입니다.",
    },
    "add": {
        "en": "Add passes the gradient through: z = x + y gives ∂L/∂x = ∂L/∂z · 1 and ∂L/∂y = ∂L/∂z · 1.",
        "ko": "덧셈 노드는 상류의 미분을 하류로 그대로 흘려보냅니다: z = x + y 이면 ∂L/∂x = ∂L/∂z · 1, ∂L/∂y = ∂L/∂z · 1.",
    },
    "sub": {
        "en": "Subtract passes the gradient through, negated for the second input: ∂L/∂x = g, ∂L/∂y = −g.",
        "ko": "뺄셈 노드는 미분을 그대로 보내되, 빼는 수 쪽에는 부호를 바꿔 보냅니다: ∂L/∂x = g, ∂L/∂y = −g.",
    },
    "mul": {
        "en": "Multiply swaps its inputs: z = x · y gives ∂L/∂x = g · y and ∂L/∂y = g · x.",
        "ko": "곱셈 노드는 상류의 미분에 순전파 때의 입력을 서로 바꾼 값을 곱합니다: z = x · y 이면 ∂L/∂x = g · y, ∂L/∂y = g · x.",
    },
    "div": {
        "en": "Divide: z = x / y gives ∂L/∂x = g / y and ∂L/∂y = −g · z / y.",
        "ko": "나눗셈 노드: z = x / y 이면 ∂L/∂x = g / y, ∂L/∂y = −g · z / y 입니다.",
    },
    "neg": {"en": "Negate flips the sign: ∂L/∂x = −g.", "ko": "부호 반전 노드는 미분의 부호만 바꿉니다: ∂L/∂x = −g."},
    "exp": {
        "en": "exp is its own derivative: y = exp(x) gives ∂L/∂x = g · y.",
        "ko": "exp 노드의 국소적 미분은 exp(x) 자신, 곧 순전파의 출력 y입니다: y = exp(x) 이면 ∂L/∂x = g · y.",
    },
    "log": {"en": "log: y = log(x) gives ∂L/∂x = g / x.", "ko": "log 노드: y = log(x) 이면 ∂L/∂x = g / x."},
    "relu": {
        "en": "ReLU is a mask: where x > 0 in the forward pass the gradient passes unchanged, elsewhere it is 0.",
        "ko": "ReLU 계층은 스위치처럼 동작합니다: 순전파 때 x > 0 이었던 원소로만 미분을 그대로 보내고, 나머지는 0으로 막습니다.",
    },
    "sigmoid": {
        "en": "Sigmoid: y = 1 / (1 + exp(−x)) gives ∂L/∂x = g · y(1 − y), from the forward output alone.",
        "ko": "시그모이드 계층: y = 1 / (1 + exp(−x)) 이면 ∂L/∂x = g · y(1 − y). 순전파의 출력만으로 계산됩니다.",
    },
    "tanh": {
        "en": "tanh: y = tanh(x) gives ∂L/∂x = g · (1 − y²).",
        "ko": "tanh 노드: y = tanh(x) 이면 ∂L/∂x = g · (1 − y²).",
    },
    "matmul": {
        "en": "Affine (matrix product) uses the transposes: Y = X · W gives ∂L/∂X = ∂L/∂Y · Wᵀ and ∂L/∂W = Xᵀ · ∂L/∂Y.",
        "ko": "Affine 계층(행렬 곱)은 전치 행렬을 씁니다: Y = X · W 이면 ∂L/∂X = ∂L/∂Y · Wᵀ, ∂L/∂W = Xᵀ · ∂L/∂Y.",
    },
    "sum": {
        "en": "Sum copies the gradient back to every element it added up (a broadcast).",
        "ko": "sum 노드는 더했던 모든 원소에 미분을 똑같이 복사해 보냅니다(브로드캐스트).",
    },
    "mean": {
        "en": "Mean copies the gradient back to every element, divided by how many were averaged.",
        "ko": "mean 노드는 미분을 평균 낸 원소 수로 나눈 뒤, 그 값을 모든 원소에 똑같이 복사해 보냅니다.",
    },
    "softmax_cross_entropy": {
        "en": "Softmax-with-Loss sends back (y − t) / N: the softmax output minus the label, over the batch size.",
        "ko": "Softmax-with-Loss 계층은 (y − t) / N 을 역전파합니다. 소프트맥스의 출력에서 정답 레이블을 뺀 뒤 배치 크기로 나눈 값입니다.",
    },
    "square": {"en": "Square: y = x² gives ∂L/∂x = g · 2x.", "ko": "제곱 노드: y = x² 이면 ∂L/∂x = g · 2x."},
    "pow": {
        "en": "Power: z = xʸ gives ∂L/∂x = g · y · xʸ⁻¹ and ∂L/∂y = g · z · log x.",
        "ko": "거듭제곱 노드: z = xʸ 이면 ∂L/∂x = g · y · xʸ⁻¹, ∂L/∂y = g · z · log x.",
    },
    "sqrt": {"en": "sqrt: y = √x gives ∂L/∂x = g / (2y).", "ko": "제곱근 노드: y = √x 이면 ∂L/∂x = g / (2y)."},
    "sin": {"en": "sin: ∂L/∂x = g · cos x.", "ko": "sin 노드: ∂L/∂x = g · cos x."},
    "cos": {"en": "cos: ∂L/∂x = −g · sin x.", "ko": "cos 노드: ∂L/∂x = −g · sin x."},
    "transpose": {"en": "Transpose sends the gradient back transposed.", "ko": "전치 노드는 미분을 다시 전치해서 보냅니다."},
    "reshape": {"en": "Reshape sends the gradient back in the input's shape.", "ko": "형상 변환 노드는 미분을 입력의 형상으로 되돌려 보냅니다."},
    "generic": {
        "en": "{op}: the gradient is the op's own local rule (its VJP in the registry) applied to g; the code line shows it.",
        "ko": "{op} 노드: 이 연산의 국소적 미분 규칙(레지스트리의 VJP)을 상류의 미분 g에 적용합니다. 해당 코드 줄이 그 계산입니다.",
    },
}


def rules_for(ops: set[str]) -> dict:
    """The rule sentences a page needs: one per op present, the generic one for the rest."""
    return {op: RULES[op] for op in ops if op in RULES} | {"generic": RULES["generic"], "seed": RULES["seed"],
                                                           "accumulate": RULES["accumulate"]}
